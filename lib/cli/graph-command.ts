import type { GraphNode, ResourceGraph } from '../container/graph';
import { parseCommandArgs, type Command } from './command';
import { UsageError } from './io';

const FORMATS = ['tree', 'mermaid', 'dot', 'json'] as const;
type GraphFormat = (typeof FORMATS)[number];

export const graphCommand: Command = {
  words: ['graph'],
  synopsis: '<file> [--format tree|mermaid|dot|json]',
  summary: "print the service's dependency graph, built without constructing anything",
  details: `  --format tree      a tree from the service down to what each resource needs (default)
  --format mermaid   a mermaid flowchart, arrows from a resource to what it needs
  --format dot       the same for Graphviz
  --format json      nodes with their kind, class, settings path and dependencies

A missing provider, a cycle or an ambiguity prints as it would at start, with its chain; exit 1.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, { format: { type: 'string', default: 'tree' } });
    if (positionals.length !== 1) throw new UsageError('graph needs exactly one file');
    const format = values.format as GraphFormat;
    if (!FORMATS.includes(format)) throw new UsageError(`unknown format ${format} (${FORMATS.join(', ')})`);
    // Loaded on use, as in `keel run`.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { inspectService } = require('./load-service') as typeof import('./load-service');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildGraph } = require('../container/graph') as typeof import('../container/graph');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DEFAULT_RESOURCES } = require('../resources/defaults') as typeof import('../resources/defaults');
    const graph = buildGraph({
      service: inspectService(positionals[0], process.cwd()),
      defaults: DEFAULT_RESOURCES,
    });
    io.out.write(`${render(graph, format)}\n`);
    return 0;
  },
};

function render(graph: ResourceGraph, format: GraphFormat): string {
  switch (format) {
    case 'mermaid':
      return renderer().graphAsMermaid(graph);
    case 'dot':
      return renderer().graphAsDot(graph);
    case 'json':
      return JSON.stringify(graphAsJson(graph), null, 2);
    case 'tree':
      return graphAsTree(graph);
  }
}

function renderer(): typeof import('../resources/graph-render') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../resources/graph-render') as typeof import('../resources/graph-render');
}

export interface GraphJson {
  service: string;
  nodes: {
    name: string;
    kind: GraphNode['kind'];
    provides: string;
    settings?: string;
    dependsOn: string[];
  }[];
}

function graphAsJson(graph: ResourceGraph): GraphJson {
  return {
    service: graph.serviceName,
    nodes: graph.nodes.map((node) => ({
      name: node.name,
      kind: node.kind,
      provides: describeProvision(node),
      ...(node.kind === 'resource' && { settings: `system.resources.${node.name}` }),
      dependsOn: node.dependsOn.map((index) => graph.nodes[index].name),
    })),
  };
}

function describeProvision(node: GraphNode): string {
  const { provision } = node;
  if ('useClass' in provision) return provision.useClass.name;
  return 'useValue' in provision ? 'value' : 'factory';
}

/**
 * The service on top, then what nothing else needs (the resources a module lists for themselves),
 * each followed by what it needs. A node met a second time is named, not expanded again.
 */
function graphAsTree(graph: ResourceGraph): string {
  const service = graph.service;
  const tops = [
    ...service.dependsOn,
    ...graph.nodes
      .filter((node) => node !== service && !service.dependsOn.includes(node.index))
      .filter((node) => node.dependents.every((dependent) => dependent === service.index))
      .map((node) => node.index),
  ];
  const lines = [`${service.name} (${describeProvision(service)})`];
  const shown = new Set<number>([service.index]);
  const walk = (indexes: readonly number[], indent: string) => {
    indexes.forEach((index, position) => {
      const node = graph.nodes[index];
      const last = position === indexes.length - 1;
      const seen = shown.has(index);
      const label = `${node.name} (${describeProvision(node)}${node.kind === 'provider' ? ', provider' : ''})`;
      lines.push(
        `${indent}${last ? '└── ' : '├── '}${label}${seen && node.dependsOn.length > 0 ? ' …' : ''}`,
      );
      if (seen) return;
      shown.add(index);
      walk(node.dependsOn, indent + (last ? '    ' : '│   '));
    });
  };
  walk(tops, '');
  return lines.join('\n');
}
