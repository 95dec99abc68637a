import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as keel from '../../../lib';
import { ERROR_CODES, KeelError } from '../../../lib';
import { quietLog } from '../../support/async';
import { readmeErrorTable, renderErrorTable } from '../../../scripts/error-table';

const PREFIXED =
  /^(SETTINGS|KEEL_LOGGING|METRIC|HTTP|BODY|REQUEST_CONTEXT|AMQP|KAFKA|CODEC|POSTGRES|REDIS|REGISTRY|DISCOVERY|DIAGNOSTICS|WORKER|CLI|TRACING|CONTRACT|POLICY)_/;
// The graph and lifecycle codes keep the names users have matched on since the first release.
const CORE = new Set(['GraphError', 'LifecycleError', 'HookTimeoutError']);

describe('the error code table', () => {
  it('is the README error section, row for row', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    expect(readmeErrorTable(readme)).toBe(renderErrorTable());
  });

  it('gives every code a meaning, an action and the classes that raise it, each exported and a KeelError', () => {
    const exported = keel as unknown as Record<string, unknown>;
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(info.meaning.length).toBeGreaterThan(10);
      expect(info.action.length).toBeGreaterThan(5);
      for (const name of info.raisedBy) {
        const cls = exported[name];
        expect(typeof cls).toBe('function');
        expect((cls as { prototype: object }).prototype).toBeInstanceOf(KeelError);
      }
    }
  });

  it("prefixes each code with its family's name, but the graph and lifecycle codes", () => {
    const unprefixed = Object.entries(ERROR_CODES)
      .filter(([code, info]) => !PREFIXED.test(code) && !info.raisedBy.every((name) => CORE.has(name)))
      .map(([code]) => code);
    expect(unprefixed).toEqual([]);
  });

  it('lists every error class the entry exports', () => {
    const raisers = new Set<string>(Object.values(ERROR_CODES).flatMap((info) => info.raisedBy));
    const errorClasses = Object.entries(keel as unknown as Record<string, unknown>)
      .filter(
        ([, value]) =>
          typeof value === 'function' && (value as { prototype: unknown }).prototype instanceof Error,
      )
      .map(([name]) => name)
      .filter((name) => !['KeelError', 'MetricsError'].includes(name)); // the abstract bases
    for (const name of errorClasses) expect([name, raisers.has(name)]).toEqual([name, true]);
  });
});

describe('KeelError', () => {
  it('is the base of the errors Keel throws, with their code', async () => {
    const { GraphError, createMicroservice, microservice, Microservice, inject, resource } = keel;
    @resource()
    class Needy {
      constructor(@inject(Symbol.for('nobody')) readonly nobody: unknown) {}
    }
    @microservice({ name: 'lonely', resources: { needy: Needy }, defaultResources: false })
    class Lonely extends Microservice {}
    const failure = await createMicroservice(Lonely, { log: quietLog() }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KeelError);
    expect(failure).toBeInstanceOf(GraphError);
    expect(failure).toMatchObject({ code: 'MISSING_PROVIDER', name: 'GraphError' });
  });
});
