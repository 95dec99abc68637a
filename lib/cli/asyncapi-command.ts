import { parseCommandArgs, type Command } from './command';
import { UsageError } from './io';
import { writeDocument } from './openapi-command';

export const asyncApiCommand: Command = {
  words: ['asyncapi'],
  synopsis: '<file> [--out file]',
  summary: "write the AsyncAPI 3.0 document of the service's message handlers, without starting it",
  details: `  --out file      write the document there (JSON) instead of stdout

Read from the @subscribe, @respond, @pull and @consume handlers of the classes; nothing is constructed.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, { out: { type: 'string' } });
    if (positionals.length !== 1) throw new UsageError('asyncapi needs exactly one file');
    // Loaded on use, as in `keel graph`.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { inspectService } = require('./load-service') as typeof import('./load-service');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildGraph } = require('../container/graph') as typeof import('../container/graph');
    const graph = buildGraph({ service: inspectService(positionals[0], process.cwd()) });
    writeDocument(loadDocuments().asyncApiOfGraph(graph), values.out, io);
    return 0;
  },
};

type Documents = typeof import('./asyncapi-document');

function loadDocuments(): Documents {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./asyncapi-document') as Documents;
}
