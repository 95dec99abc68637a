import { execFile } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../support/process';

jest.setTimeout(60_000);

const fixture = path.join(__dirname, 'fixtures', 'quiet-app.ts');

function runQuiet(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', '@swc-node/register', fixture],
      // No settings file in the fixture's folder: the load would say so, at info.
      {
        cwd: path.dirname(fixture),
        env: { ...process.env, ...env, SWC_NODE_PROJECT: path.join(PROJECT_ROOT, 'tsconfig.json') },
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('system.logging.stdout: false', () => {
  it('an app that starts, serves and stops prints nothing, on stdout or stderr', async () => {
    const result = await runQuiet({});
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a boot error still reaches stderr', async () => {
    const result = await runQuiet({ QUIET_REPORT_PORT: '99999' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('system.resources.report_server.port');
  });
});
