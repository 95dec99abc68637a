import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

describe("bunyan's optional modules", () => {
  it('are not loaded with bunyan, and a rotating-file stream still rotates (mv loaded on first use)', () => {
    const output = execFileSync(
      process.execPath,
      ['-r', '@swc-node/register', path.join(__dirname, 'fixtures', 'bunyan-rotation.ts')],
      { cwd: ROOT, encoding: 'utf8', timeout: 20_000 },
    );
    const { whenLoaded, files, afterRotation } = JSON.parse(output) as {
      whenLoaded: number;
      files: string[];
      afterRotation: number;
    };
    expect(whenLoaded).toBe(0);
    expect(files).toContain('service.log.0');
    expect(afterRotation).toBeGreaterThan(0);
  });
});
