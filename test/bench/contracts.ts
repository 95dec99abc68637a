import path from 'node:path';
import { median } from './support/measure';
import { fixed, markdownTable, signed, times, verdict } from './support/table';
import { loadAverage, runCpuWorker } from './fixtures/http-processes';

const REQUESTS_PER_RUN = Number(process.env.CONTRACTS_REQUESTS ?? 10_000);
const RUNS_PER_PROCESS = 5;
const PROCESSES_PER_SIDE = 3;
const WORKER = path.join(__dirname, 'fixtures', 'contracts-worker.ts');
/** Issue 27: Keel validating a body costs at most what fastify does with the same JSON Schema. */
const CPU_TARGET = 1.0;

const SIDES = [
  { side: 'fastify-plain', name: 'bare fastify, no schema' },
  { side: 'fastify', name: 'bare fastify, body schema (its built-in ajv)' },
  { side: 'fastify-full', name: 'fastify-full (pino request logging, prom-client), body schema' },
  { side: 'keel-plain', name: 'Keel HttpServerResource, no schema' },
  { side: 'keel', name: 'Keel HttpServerResource, body schema (ajv, compiled at start)' },
] as const;

/**
 * CPU per request of POST /orders with a 1 KB JSON body checked against a 10-property JSON Schema
 * (`contracts-worker.ts`), each side in fresh processes alternating with the others, fed in memory
 * (no sockets, no load generator). Keel with its built-ins on (access line, metrics, request id)
 * is judged against fastify-full, which has the same; the bare fastify rows show what the schema
 * costs fastify, and Keel's two rows what validation costs Keel.
 */
export async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const samples = new Map<string, number[]>(SIDES.map(({ side }) => [side, []]));
  for (let round = 0; round < PROCESSES_PER_SIDE; round++) {
    for (const { side } of SIDES) {
      samples.get(side)!.push(...(await runCpuWorker(WORKER, side, REQUESTS_PER_RUN, RUNS_PER_PROCESS)));
    }
  }
  const min = (side: string) => Math.min(...samples.get(side)!);
  const judged = min('keel') / min('fastify-full');
  console.log(
    `## Contracts: POST /orders, 1 KB JSON body, 10-property schema; CPU µs per request, ${PROCESSES_PER_SIDE} processes x ${RUNS_PER_PROCESS} runs x ${REQUESTS_PER_RUN} requests per side, node ${process.version}\n`,
  );
  console.log(
    markdownTable(
      [
        'server',
        'µs/request (min)',
        'µs/request (median)',
        'vs fastify-full + schema (min)',
        'target',
        'verdict',
      ],
      SIDES.map(({ side, name }) => [
        name,
        fixed(min(side), 2),
        fixed(median(samples.get(side)!), 2),
        times(min(side) / min('fastify-full')),
        side === 'keel' ? `CPU <= ${CPU_TARGET}x fastify-full + schema` : '',
        side === 'keel' ? verdict(judged <= CPU_TARGET) : '',
      ]),
    ),
  );
  console.log(
    `\nValidation's cost: Keel ${signed(min('keel') - min('keel-plain'))} µs (${times(min('keel') / min('keel-plain'))}), fastify ${signed(min('fastify') - min('fastify-plain'))} µs (${times(min('fastify') / min('fastify-plain'))}), on the minimums.`,
  );
  console.log(
    `\nload average before / after: ${loadBefore} / ${loadAverage()} (2 cores; other work shares them)\n`,
  );
}
