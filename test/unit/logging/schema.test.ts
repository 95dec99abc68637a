import convict from 'convict';
import { loadLoggingSettings, loggingSchema } from '../../../lib/logging';

describe('loggingSchema', () => {
  it('defaults to PRODUCTION on stdout with every other stream off', () => {
    const settings = loadLoggingSettings();

    expect(settings).toMatchObject({
      profile: 'PRODUCTION',
      stdout: true,
      file_path: null,
      file: { max_bytes: 10 * 1024 * 1024, period: '', count: 5 },
      logstash: { enabled: false, host: '127.0.0.1', port: 5044, fqdn: false, version: 1 },
      http: { enabled: false, max_time_seconds: 15, max_records: 100, max_queue_records: 10000 },
    });
  });

  it('names the key and the allowed values for an unknown profile', () => {
    expect(() => loadLoggingSettings({ profile: 'debug' as never })).toThrow(
      /profile: unknown logging profile "debug"; allowed values: DEVELOP, TESTING, PRODUCTION/,
    );
  });

  it('gives the same message when nested at system.logging in a larger convict schema', () => {
    const config = convict({ system: { logging: loggingSchema } } as never);
    config.load({ system: { logging: { profile: 'LOUD' } } });

    expect(() => config.validate({ allowed: 'strict' })).toThrow(
      /system\.logging\.profile: unknown logging profile "LOUD"; allowed values: DEVELOP, TESTING, PRODUCTION/,
    );
  });

  it.each([
    [{ file: { period: '1 day' } }, /file\.period: must be empty or a count and a unit/],
    [{ file: { count: -1 } }, /file\.count/],
    [{ http: { url: 'ftp://logs' } }, /http\.url: must be an http or https URL/],
    [{ http: { max_records: 0 } }, /http\.max_records: must be an integer of at least 1/],
    [{ http: { max_time_seconds: 0 } }, /http\.max_time_seconds: must be a number of seconds greater than 0/],
    [{ logstash: { version: 2 } }, /logstash\.version/],
    [{ redis: { url: 'http://cache:6379' } }, /redis\.url: must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ redis: { max_queue_records: 0 } }, /redis\.max_queue_records: must be an integer of at least 1/],
  ])('rejects %j', (input, message) => {
    expect(() => loadLoggingSettings(input as never)).toThrow(message);
  });

  it('accepts the Tamarco layout with rotation by size and by period', () => {
    const settings = loadLoggingSettings({
      profile: 'DEVELOP',
      file_path: 'logs/app.log',
      file: { max_bytes: 1024, period: '1d', count: 3 },
      logstash: { enabled: true, host: 'logstash.internal', port: 5959 },
      http: { enabled: true, url: 'https://logstash.internal:8443/bulk', user: 'svc', password: 'pw' },
    });

    expect(settings.file).toEqual({ max_bytes: 1024, period: '1d', count: 3 });
    expect(settings.http).toMatchObject({
      url: 'https://logstash.internal:8443/bulk',
      user: 'svc',
      password: 'pw',
    });
  });
});
