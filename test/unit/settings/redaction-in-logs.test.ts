import { configureLogging, createProvisionalLogging, type Logging } from '../../../lib/logging';
import { defineSettings, SettingsProvider } from '../../../lib/settings';
import { LineCapture } from '../logging/capture';

const dbSchema = defineSettings({
  login: { doc: 'Database login string', format: String, default: 'app:dsnpass-111', sensitive: true },
  pool: { format: 'nat', default: 4 },
});

describe('redaction in log records', () => {
  let stdout: LineCapture;
  let logging: Logging;
  let settings: SettingsProvider;

  beforeEach(async () => {
    stdout = new LineCapture();
    logging = createProvisionalLogging({ serviceName: 'billing_api', stderr: new LineCapture() });
    await configureLogging(logging, { profile: 'DEVELOP' }, { deployName: 'test', stdout });
    settings = await SettingsProvider.load({
      serviceName: 'billing_api',
      scopes: [{ path: 'system.resources.db', owner: 'db', schema: dbSchema }],
      env: {},
      cwd: __dirname,
      warn: () => undefined,
    });
  });

  afterEach(async () => {
    await settings.close();
    await logging.close();
  });

  it('masks URL credentials and known secret values in messages and errors; Authorization and Cookie never reach a line', async () => {
    const failure = new Error('password authentication failed for app:dsnpass-111');
    logging.logger.error({ err: failure }, 'cannot reach postgres://app:dsnpass-111@db.internal:5432/app');
    logging.logger.info(
      { req: { headers: { Authorization: 'Bearer eyJ.secret', Cookie: 'sid=abc123', accept: '*/*' } } },
      'request',
    );
    logging.logger.info({ passed: 3, max_tokens: 10, bypass_cache: true }, 'counts');
    await logging.flush();

    const text = stdout.lines.join('\n');
    expect(text).not.toContain('dsnpass-111');
    expect(text).not.toContain('eyJ.secret');
    expect(text).not.toContain('abc123');
    expect(stdout.records[0].msg).toBe('cannot reach postgres://[redacted]@db.internal:5432/app');
    expect(stdout.records[0]).toMatchObject({
      err: { message: 'password authentication failed for [redacted]' },
    });
    expect(stdout.records[1]).toMatchObject({
      req: { headers: { Authorization: '[redacted]', Cookie: '[redacted]', accept: '*/*' } },
    });
    expect(stdout.records[2]).toMatchObject({ passed: 3, max_tokens: 10, bypass_cache: true });
  });
});
