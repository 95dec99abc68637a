import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMicroservice, instanceIdentity, Microservice, microservice } from '../../../lib';
import { quietLog, until } from '../../support/async';

@microservice({ name: 'identified' })
class Identified extends Microservice {}

describe('the instance identity in pushed metrics', () => {
  it('tags every carbon/file/stdout line with instance_id, version and revision', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'keel-identity-'));
    const file = path.join(directory, 'metrics.txt');
    const app = await createMicroservice(Identified, {
      log: quietLog(),
      settings: {
        system: {
          resources: {
            report_server: { enabled: false },
            metrics: { collect_frequency: 0.05, handlers: { file: { enabled: true, path: file } } },
          },
        },
      },
    });
    await app.start();
    try {
      await until(
        () => existsSync(file) && readFileSync(file, 'utf8').includes('\n'),
        10_000,
        'a metrics line',
      );
      const { instance_id, version, revision } = instanceIdentity();
      const tags = `;instance_id=${instance_id};version=${version}${revision === undefined ? '' : `;revision=${revision}`} `;
      const text = readFileSync(file, 'utf8');
      // Whole lines only: a push may be under way.
      const lines = text.slice(0, text.lastIndexOf('\n')).split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toContain(tags);
    } finally {
      await app.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
