import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../../unit/logging/capture';

jest.setTimeout(60_000);

const root = path.resolve(__dirname, '../../..');
const fixture = path.join(__dirname, 'fixtures', 'log-then-exit.ts');
const bunyanCli = path.join(root, 'node_modules', '.bin', 'bunyan');
// Few enough that the UDP receiver's default kernel buffer holds them all: UDP drops what overflows it.
const RECORDS = 40;

function parseLines(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

describe('a service process that logs while stopping and exits', () => {
  let dir: string;
  let httpReceiver: http.Server;
  let udpReceiver: dgram.Socket;
  const httpEvents: Record<string, any>[] = [];
  const udpEvents: Record<string, any>[] = [];
  let stdout: string;
  let stderr: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-logging-exit-'));
    httpReceiver = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        httpEvents.push(...JSON.parse(Buffer.concat(chunks).toString('utf8')));
        response.end();
      });
    });
    await new Promise<void>((resolve) => httpReceiver.listen(0, '127.0.0.1', resolve));
    udpReceiver = dgram.createSocket('udp4');
    udpReceiver.on('message', (message) => udpEvents.push(JSON.parse(message.toString('utf8'))));
    await new Promise<void>((resolve) => udpReceiver.bind(0, '127.0.0.1', resolve));

    const settings = {
      profile: 'DEVELOP',
      stdout: true,
      file_path: path.join(dir, 'service.log'),
      file: { max_bytes: 0 },
      logstash: { enabled: true, host: '127.0.0.1', port: udpReceiver.address().port },
      // An hour and more records than are logged: only the close at stop can send them.
      http: {
        enabled: true,
        url: `http://127.0.0.1:${(httpReceiver.address() as AddressInfo).port}/`,
        max_records: 10_000,
        max_time_seconds: 3600,
      },
    };
    const run = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', fixture], {
      cwd: root,
      env: {
        ...process.env,
        KEEL_TEST_LOGGING: JSON.stringify(settings),
        KEEL_TEST_RECORDS: String(RECORDS),
      },
      maxBuffer: 64 * 1024 * 1024,
    });
    stdout = run.stdout;
    stderr = run.stderr;
  });

  afterAll(async () => {
    httpReceiver.closeAllConnections();
    await new Promise<void>((resolve) => httpReceiver.close(() => resolve()));
    await new Promise<void>((resolve) => udpReceiver.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const everyRecord = Array.from({ length: RECORDS + 1 }, (_, n) => n);

  it('wrote the provisional record to stderr', () => {
    expect(parseLines(stderr)).toEqual([
      expect.objectContaining({ msg: 'loading settings', levelname: 'INFO' }),
    ]);
  });

  it('wrote every record, the last one logged while stopping included, to stdout', () => {
    const numbered = parseLines(stdout).filter((record) => record.n !== undefined);
    expect(numbered.map((record) => record.n)).toEqual(everyRecord);
  });

  it('wrote every record to the file', () => {
    const numbered = parseLines(fs.readFileSync(path.join(dir, 'service.log'), 'utf8')).filter(
      (record) => record.n !== undefined,
    );
    expect(numbered.map((record) => record.n)).toEqual(everyRecord);
  });

  it('sent every record to logstash over HTTP before exiting', () => {
    const numbered = httpEvents.filter((event) => event.n !== undefined);
    expect(numbered.map((event) => event.n)).toEqual(everyRecord);
  });

  it('sent every record to logstash over UDP before exiting', async () => {
    const numbered = () => udpEvents.filter((event) => event.n !== undefined);
    await waitFor(() => numbered().length === everyRecord.length, 10_000, 'every datagram');
    expect(numbered().map((event) => event.n)).toEqual(everyRecord);
  });

  it('is pretty-printed by the bunyan CLI', () => {
    const pretty = execFileSync(process.execPath, [bunyanCli, '--no-color'], {
      input: stdout,
      encoding: 'utf8',
    });
    const host = os.hostname();
    expect(pretty).toMatch(
      new RegExp(
        `^\\[[0-9T:.-]+Z\\]  INFO: fixture_svc/\\d+ on ${host}: record 0 \\(.*logger=fixture_svc\\.worker, .*resource=worker`,
        'm',
      ),
    );
    expect(pretty).toMatch(
      new RegExp(`^\\[[0-9T:.-]+Z\\] ERROR: fixture_svc/\\d+ on ${host}: worker failed`, 'm'),
    );
    expect(pretty).toMatch(/^ {4}Error: worker crashed\n {8}at main /m);
    expect(pretty).toContain('levelname=INFO');

    const filtered = execFileSync(process.execPath, [bunyanCli, '--no-color', '-l', 'error', '-o', 'short'], {
      input: stdout,
      encoding: 'utf8',
    });
    expect(filtered.split('\n').filter((line) => /^\d\d:\d\d:\d\d/.test(line))).toEqual([
      expect.stringMatching(/ERROR fixture_svc\/worker: worker failed|ERROR fixture_svc: worker failed/),
    ]);
  });
});

describe('a service process that exits without closing its logging', () => {
  it.each([
    ['calls process.exit()', 'exit'],
    ['runs out of work', 'natural'],
  ])('still writes its last records to stdout when it %s', async (_case, exit) => {
    const { stdout } = await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', fixture], {
      cwd: root,
      env: {
        ...process.env,
        KEEL_TEST_LOGGING: JSON.stringify({ profile: 'DEVELOP', stdout: true }),
        KEEL_TEST_RECORDS: '5',
        KEEL_TEST_EXIT_WITHOUT_CLOSE: '1',
        KEEL_TEST_EXIT: exit,
      },
    });
    const records = parseLines(stdout);
    expect(records.map((record) => record.msg)).toEqual([
      'record 0',
      'record 1',
      'record 2',
      'record 3',
      'record 4',
      'worker failed',
      'stopping',
    ]);
  });
});
