import bunyan from 'bunyan';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  configureLogging,
  createProvisionalLogging,
  LoggingSettingsError,
  type Logging,
  type LoggingSettingsInput,
  type LogSink,
} from '../../../lib/logging';
import { StreamSink } from '../../../lib/logging/sinks/stream';
import { LineCapture } from './capture';

describe('Logging', () => {
  let stderr: LineCapture;
  let stdout: LineCapture;
  let logging: Logging;

  beforeEach(() => {
    stderr = new LineCapture();
    stdout = new LineCapture();
    logging = createProvisionalLogging({ serviceName: 'billing_api', stderr });
  });

  afterEach(() => logging.close());

  async function configure(settings: LoggingSettingsInput = {}, deployName = 'staging'): Promise<void> {
    await configureLogging(logging, { profile: 'DEVELOP', ...settings }, { deployName, stdout });
  }

  it('writes provisional records to stderr at info before settings load', async () => {
    logging.logger.debug('not yet');
    logging.logger.info('loading settings');
    await logging.flush();

    expect(stderr.records.map((record) => record.msg)).toEqual(['loading settings']);
    expect(stderr.records[0]).toMatchObject({
      name: 'billing_api',
      service_name: 'billing_api',
      levelname: 'INFO',
    });
    expect(logging.streams()).toEqual(['stderr']);
  });

  it('moves loggers handed out before configuration to the configured streams', async () => {
    const early = logging.forResource('postgres');
    await configure();
    early.info('connected');
    await logging.flush();

    expect(logging.streams()).toEqual(['stdout']);
    expect(stdout.records).toEqual([
      expect.objectContaining({ msg: 'connected', resource: 'postgres', deploy_name: 'staging' }),
    ]);
    expect(stderr.lines).toEqual([]);
  });

  it('gives every record service_name, deploy_name, levelname and logger, and a resource logger its resource', async () => {
    await configure();
    logging.logger.warn('service level');
    logging.forResource('http').error('resource level');
    logging.getLogger('audit').info('named logger');
    await logging.flush();

    expect(stdout.records).toEqual([
      expect.objectContaining({
        service_name: 'billing_api',
        deploy_name: 'staging',
        levelname: 'WARNING',
        logger: 'billing_api',
        level: bunyan.WARN,
      }),
      expect.objectContaining({ levelname: 'ERROR', logger: 'billing_api.http', resource: 'http' }),
      expect.objectContaining({ levelname: 'INFO', logger: 'audit' }),
    ]);
    expect(stdout.records[0]).not.toHaveProperty('resource');
  });

  it('keeps bunyan record fields so the bunyan CLI can read the lines', async () => {
    await configure();
    logging.logger.info('hello %s', 'world');
    await logging.flush();

    const [record] = stdout.records;
    expect(record).toMatchObject({
      name: 'billing_api',
      pid: process.pid,
      level: 30,
      msg: 'hello world',
      v: 0,
    });
    expect(typeof record.hostname).toBe('string');
    expect(new Date(record.time).toISOString()).toBe(record.time);
  });

  it('passes extra fields and tags through and serializes errors with their stack', async () => {
    await configure();
    const failure = new Error('payment gateway down');
    logging.logger.info(
      { extra: { request_id: 'r-1' }, tags: { customer: 'acme' }, order: 7 },
      'with context',
    );
    logging.logger.error(failure, 'charge failed');
    logging.logger.error({ err: failure }, 'as a field');
    logging.logger.error({ error: failure }, 'named error');
    await logging.flush();

    const [withContext, ...errors] = stdout.records;
    expect(withContext).toMatchObject({ extra: { request_id: 'r-1' }, tags: { customer: 'acme' }, order: 7 });
    expect(errors[0].err).toMatchObject({ message: 'payment gateway down', name: 'Error' });
    expect(errors[0].err.stack).toContain('payment gateway down\n    at ');
    expect(errors[1].err.stack).toBe(failure.stack);
    expect(errors[2].error.stack).toBe(failure.stack);
  });

  it('redacts secrets at any depth in every record, including ones in the logger fields', async () => {
    await configure();
    const child = logging.logger.child({ api_key: 'k-123' });
    child.info(
      { db: { user: 'app', password: 'hunter2' }, token: 'abc', list: [{ secret: 's' }] },
      'connecting',
    );
    await logging.flush();

    const line = stdout.lines[0];
    expect(line).not.toMatch(/hunter2|abc|k-123|"s"/);
    expect(stdout.records[0]).toMatchObject({
      api_key: '[redacted]',
      db: { user: 'app', password: '[redacted]' },
      token: '[redacted]',
      list: [{ secret: '[redacted]' }],
    });
  });

  it('logs debug under DEVELOP and TESTING and only info under PRODUCTION', async () => {
    for (const profile of ['DEVELOP', 'TESTING', 'PRODUCTION'] as const) {
      await configure({ profile });
      logging.logger.debug(`debug under ${profile}`);
      logging.logger.info(`info under ${profile}`);
    }
    await logging.flush();

    expect(stdout.records.map((record) => record.msg)).toEqual([
      'debug under DEVELOP',
      'info under DEVELOP',
      'debug under TESTING',
      'info under TESTING',
      'info under PRODUCTION',
    ]);
  });

  it('obeys system.logging.level over the profile, and over its own warnings about streams', async () => {
    await configure({ profile: 'DEVELOP', level: 'warn' });
    logging.logger.info('hidden by the threshold');
    logging.logger.warn('shown');
    logging.setProfile('PRODUCTION');
    logging.logger.info('still hidden');
    await configure({ profile: 'DEVELOP', level: 'error', stdout: false });
    logging.setLevel('');
    logging.logger.debug('the profile decides again');
    await logging.flush();

    expect(stdout.records.map((record) => record.msg)).toEqual(['shown']);
    expect(stderr.records.map((record) => record.msg)).toEqual([]);
    expect(logging.level).toBe(bunyan.DEBUG);
  });

  it('obeys a threshold given to the provisional logging from its first record', async () => {
    const early = createProvisionalLogging({ serviceName: 'quiet', stderr, level: 'warn' });
    early.logger.info('No settings file');
    early.logger.warn('kept');
    await early.close();
    expect(stderr.records.map((record) => record.msg)).toEqual(['kept']);
  });

  it('changes the profile at run time for loggers already handed out, children included', async () => {
    await configure({ profile: 'PRODUCTION' });
    const resource = logging.forResource('cache');
    const perRequest = resource.child({ request_id: 'r-9' });
    perRequest.debug('hidden');
    expect(perRequest.isEnabled('debug')).toBe(false);

    logging.setProfile('DEVELOP');
    perRequest.debug('shown');
    resource.debug('shown too');
    expect(logging.profile).toBe('DEVELOP');
    expect(logging.level).toBe(bunyan.DEBUG);
    await logging.flush();

    expect(stdout.records.map((record) => [record.msg, record.request_id])).toEqual([
      ['shown', 'r-9'],
      ['shown too', undefined],
    ]);
  });

  it('rejects an unknown profile at run time, naming the key and the allowed values, and keeps the old one', async () => {
    await configure({ profile: 'PRODUCTION' });
    let caught: unknown;
    try {
      logging.setProfile('VERBOSE');
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(LoggingSettingsError);
    expect(caught).toMatchObject({ code: 'KEEL_LOGGING_SETTINGS', key: 'system.logging.profile' });
    expect((caught as Error).message).toBe(
      'system.logging.profile: unknown logging profile "VERBOSE"; allowed values: DEVELOP, TESTING, PRODUCTION',
    );
    expect(logging.profile).toBe('PRODUCTION');
  });

  it('applies a deploy name that arrives with the settings to loggers created before', async () => {
    const early = logging.forResource('queue');
    await configure({}, 'production-eu');
    early.info('ready');
    logging.setDeployName('production-us');
    early.info('moved');
    await logging.flush();

    expect(stdout.records.map((record) => record.deploy_name)).toEqual(['production-eu', 'production-us']);
  });

  it('sends records logged after close to stderr, so none vanish', async () => {
    await configure();
    logging.logger.info('before close');
    await logging.close();
    logging.logger.info('after close');
    await logging.flush();

    expect(stdout.records.map((record) => record.msg)).toEqual(['before close']);
    expect(stderr.records.map((record) => record.msg)).toEqual(['after close']);
  });

  it('says nothing when the settings enable no stream at all: stdout: false is asked for, a quiet test', async () => {
    await configure({ stdout: false });
    logging.logger.info('goes nowhere');
    await logging.flush();

    expect(stderr.records).toEqual([]);
    expect(stdout.records).toEqual([]);
  });

  it('reports a file it cannot open as a settings error on file_path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-logging-'));
    const notADirectory = path.join(dir, 'plain-file');
    fs.writeFileSync(notADirectory, '');
    try {
      await expect(configure({ file_path: path.join(notADirectory, 'app.log') })).rejects.toMatchObject({
        code: 'KEEL_LOGGING_SETTINGS',
        key: 'system.logging.file_path',
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Logging with awkward records and streams', () => {
  it('logs a record with a cycle in it, redacted, instead of throwing at the call site', async () => {
    const stdout = new LineCapture();
    const logging = createProvisionalLogging({ serviceName: 'svc', stderr: new LineCapture() });
    await configureLogging(logging, { profile: 'DEVELOP' }, { stdout });
    const node: Record<string, unknown> = { id: 1, password: 'p' };
    node.self = node;
    logging.logger.info({ node }, 'cyclic');
    await logging.close();

    expect(stdout.records[0]).toMatchObject({
      msg: 'cyclic',
      node: { id: 1, password: '[redacted]', self: '[circular]' },
    });
  });

  it('keeps the other streams going when one throws, and says so on stderr', async () => {
    const stderr = new LineCapture();
    const good = new LineCapture();
    const logging = createProvisionalLogging({ serviceName: 'svc', stderr });
    const broken: LogSink = {
      name: 'broken',
      write: () => {
        throw new Error('disk on fire');
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    logging.setProfile('DEVELOP');
    await logging.replaceSinks([broken, new StreamSink('capture', good, logging.sinkContext.drops)]);
    logging.logger.info('still logged');
    await logging.close();

    expect(good.records.map((record) => record.msg)).toEqual(['still logged']);
    expect(stderr.records).toEqual([
      expect.objectContaining({
        stream: 'broken',
        err: expect.objectContaining({ message: 'disk on fire' }),
      }),
    ]);
  });
});
