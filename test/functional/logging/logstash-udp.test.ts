import dgram from 'node:dgram';
import os from 'node:os';
import { configureLogging, createProvisionalLogging, type Logging } from '../../../lib/logging';
import { LineCapture, waitFor } from '../../unit/logging/capture';

jest.setTimeout(20_000);

describe('logstash UDP stream', () => {
  let receiver: dgram.Socket;
  let received: Record<string, any>[];
  let logging: Logging;
  let stderr: LineCapture;

  beforeEach(async () => {
    received = [];
    receiver = dgram.createSocket('udp4');
    receiver.on('message', (message) => received.push(JSON.parse(message.toString('utf8'))));
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    stderr = new LineCapture();
    logging = createProvisionalLogging({ serviceName: 'billing_api', stderr });
    await configureLogging(
      logging,
      {
        profile: 'DEVELOP',
        stdout: false,
        logstash: { enabled: true, host: '127.0.0.1', port: receiver.address().port },
      },
      { deployName: 'staging' },
    );
  });

  afterEach(async () => {
    await logging.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('sends each record as a JSON event version 1 with Keel fields, extra, tags and the error stack', async () => {
    const failure = new Error('card declined');
    logging
      .forResource('payments')
      .error(
        { err: failure, tags: { customer: 'acme' }, extra: { order: 17 }, password: 'hunter2' },
        'charge failed',
      );
    await logging.flush();
    await waitFor(() => received.length === 1, 10_000, 'the datagram');

    const [event] = received;
    expect(event).toMatchObject({
      '@version': '1',
      message: 'charge failed',
      host: os.hostname(),
      level: 'ERROR',
      logger_name: 'billing_api.payments',
      service_name: 'billing_api',
      deploy_name: 'staging',
      levelname: 'ERROR',
      logger: 'billing_api.payments',
      resource: 'payments',
      tags: { customer: 'acme' },
      extra: { order: 17 },
      password: '[redacted]',
      pid: process.pid,
    });
    expect(new Date(event['@timestamp']).toISOString()).toBe(event['@timestamp']);
    expect(event.err.stack).toBe(failure.stack);
    expect(event).not.toHaveProperty('msg');
  });

  it('delivers every record to a listening receiver', async () => {
    // Small enough for the receiver's default kernel buffer: UDP itself drops what overflows it.
    const count = 50;
    for (let n = 0; n < count; n++) logging.logger.info({ n }, 'record %d', n);
    await logging.flush();
    await waitFor(() => received.length === count, 10_000, `${count} datagrams`);

    expect(received.map((event) => event.n).sort((a, b) => a - b)).toEqual(
      Array.from({ length: count }, (_, n) => n),
    );
    expect(logging.droppedRecords()).toEqual({});
    expect(stderr.lines).toEqual([]);
  });

  it('counts records it cannot send and warns once per outage', async () => {
    await configureLogging(logging, {
      profile: 'DEVELOP',
      stdout: false,
      logstash: { enabled: true, host: 'logstash.invalid', port: 5044 },
    });
    for (let n = 0; n < 5; n++) logging.logger.info({ n }, 'lost %d', n);
    await logging.flush();

    expect(logging.droppedRecords()).toEqual({ logstash_udp: 5 });
    const warnings = stderr.records.filter((record) => record.stream === 'logstash_udp');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ levelname: 'WARNING', logger: 'keel.logging' });
    expect(warnings[0].msg).toContain('logstash_udp is failing');
  });
});
