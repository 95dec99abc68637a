import { writeFileSync } from 'node:fs';
import { parseCommandArgs, type Command } from './command';
import { CliError, UsageError, type CliIo } from './io';

export const openApiCommand: Command = {
  words: ['openapi'],
  synopsis: '<file> [--server name] [--out file]',
  summary: "write the OpenAPI 3.1 document of the service's HTTP routes, without starting it",
  details: `  --server name   the HTTP server to describe, when the service has several
  --out file      write the document there (JSON) instead of stdout

Read from the @http routes and @openApi declarations of the classes; nothing is constructed.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, {
      server: { type: 'string' },
      out: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('openapi needs exactly one file');
    // Loaded on use, as in `keel graph`.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { inspectService } = require('./load-service') as typeof import('./load-service');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildGraph } = require('../container/graph') as typeof import('../container/graph');
    const documents = loadDocuments();
    const graph = buildGraph({ service: inspectService(positionals[0], process.cwd()) });
    const servers = documents.httpServersOf(graph);
    const shown = servers.map((name) => `'${name}'`).join(', ');
    if (servers.length === 0)
      throw new CliError('CLI_NO_HTTP_SERVER', `${graph.serviceName} has no HttpServerResource`);
    const server = values.server ?? (servers.length === 1 ? servers[0] : undefined);
    if (server === undefined) {
      throw new UsageError(
        `${graph.serviceName} has ${servers.length} HTTP servers (${shown}): name one with --server`,
      );
    }
    if (!servers.includes(server)) {
      throw new UsageError(`${graph.serviceName} has no HTTP server '${server}'; its HTTP servers: ${shown}`);
    }
    writeDocument(documents.openApiOfGraph(graph, server), values.out, io);
    return 0;
  },
};

/** A document as indented JSON, to `out` or to stdout. */
export function writeDocument(document: unknown, out: string | undefined, io: CliIo): void {
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (out === undefined) io.out.write(text);
  else writeFileSync(out, text);
}

type Documents = typeof import('../resources/http/contracts/openapi-graph');

function loadDocuments(): Documents {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../resources/http/contracts/openapi-graph') as Documents;
}
