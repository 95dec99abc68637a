import convict from 'convict';
import { tmpdir } from 'node:os';

import { metricsSchema } from '../../../lib/metrics';
import { convictSchema } from '../../../lib/settings/formats';

function load(values: Record<string, unknown>) {
  return convict(convictSchema(metricsSchema)).load(values).validate({ allowed: 'strict' });
}

describe('metricsSchema', () => {
  it("has Tamarco's keys with defaults that push nothing and serve /metrics", () => {
    const settings = load({}).getProperties();
    expect(settings).toEqual({
      collect_frequency: 10,
      handlers: {
        prometheus: { enabled: true },
        carbon: { enabled: false, host: '127.0.0.1', port: 2003, max_buffered_lines: 10_000 },
        file: { enabled: false, path: expect.stringContaining(tmpdir()) },
        stdout: { enabled: false },
      },
    });
  });

  it('takes a full configuration', () => {
    const settings = load({
      collect_frequency: 0.5,
      handlers: {
        carbon: { enabled: true, host: 'carbon.internal', port: 2103 },
        file: { enabled: true, path: 'metrics.txt' },
        stdout: { enabled: true },
      },
    });
    expect(settings.get('collect_frequency')).toBe(0.5);
    expect(settings.get('handlers.carbon.port')).toBe(2103);
    expect(settings.get('handlers.file.path')).toBe('metrics.txt');
  });

  it.each([
    [{ collect_frequency: 0 }, /collect_frequency: must be a number of seconds greater than 0/],
    [{ collect_frequency: 'often' }, /collect_frequency/],
    [{ handlers: { carbon: { port: 70000 } } }, /handlers.carbon.port/],
    [{ handlers: { carbon: { max_buffered_lines: -1 } } }, /handlers.carbon.max_buffered_lines/],
    [{ handlers: { graphite: { enabled: true } } }, /handlers.graphite/],
  ])('rejects %j naming the key', (values, message) => {
    expect(() => load(values)).toThrow(message);
  });
});
