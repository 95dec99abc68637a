import type { ResourceGraph } from '../container/graph';

/** The dependency graph as a mermaid flowchart: each arrow points from a resource to what it needs. */
export function graphAsMermaid(graph: ResourceGraph): string {
  const lines = ['graph TD'];
  for (const node of graph.nodes) {
    lines.push(`  ${mermaidId(node.name)}["${node.name}"]`);
    for (const dependency of node.dependsOn)
      lines.push(`  ${mermaidId(node.name)} --> ${mermaidId(graph.nodes[dependency].name)}`);
  }
  return lines.join('\n');
}

export function graphAsDot(graph: ResourceGraph): string {
  const lines = [`digraph ${JSON.stringify(graph.serviceName)} {`];
  for (const node of graph.nodes) {
    lines.push(`  ${JSON.stringify(node.name)};`);
    for (const dependency of node.dependsOn) {
      lines.push(`  ${JSON.stringify(node.name)} -> ${JSON.stringify(graph.nodes[dependency].name)};`);
    }
  }
  lines.push('}');
  return lines.join('\n');
}

function mermaidId(name: string): string {
  return `n_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}
