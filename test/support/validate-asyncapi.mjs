// Parses the AsyncAPI document on stdin with @asyncapi/parser (its own validation: the AsyncAPI
// schema and its rules); prints the errors (severity 0) as JSON, and the version it read.
import { Buffer } from 'node:buffer';
import { Parser } from '@asyncapi/parser';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { document, diagnostics } = await new Parser().parse(Buffer.concat(chunks).toString('utf8'));
const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0);
process.stdout.write(
  JSON.stringify({
    valid: document !== undefined && errors.length === 0,
    version: document?.version(),
    errors: errors.map(({ code, message, path }) => ({ code, message, path })),
  }),
);
