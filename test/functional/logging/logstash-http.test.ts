import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  configureLogging,
  createProvisionalLogging,
  type Logging,
  type LoggingSettingsInput,
} from '../../../lib/logging';
import { LineCapture, waitFor } from '../../unit/logging/capture';

jest.setTimeout(30_000);

interface Post {
  headers: http.IncomingHttpHeaders;
  events: Record<string, any>[];
}

/** A real HTTP server standing in for logstash's http input; `answer` picks each response's status. */
class Receiver {
  readonly posts: Post[] = [];
  answer: (post: Post) => number = () => 200;
  private readonly server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const post = { headers: request.headers, events: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
      const status = this.answer(post);
      if (status === 200) this.posts.push(post);
      response.writeHead(status).end();
    });
  });

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get events(): Record<string, any>[] {
    return this.posts.flatMap((post) => post.events);
  }
}

describe('logstash HTTP bulk stream', () => {
  let receiver: Receiver;
  let logging: Logging;
  let stderr: LineCapture;

  beforeEach(() => {
    receiver = new Receiver();
    stderr = new LineCapture();
    logging = createProvisionalLogging({ serviceName: 'billing_api', stderr });
  });

  afterEach(async () => {
    await logging.close(1000);
    await receiver.close();
    // Never an empty post, whatever the test did.
    for (const post of receiver.posts) expect(post.events.length).toBeGreaterThan(0);
  });

  async function useHttp(port: number, http: NonNullable<LoggingSettingsInput['http']>): Promise<void> {
    await configureLogging(
      logging,
      {
        profile: 'DEVELOP',
        stdout: false,
        http: { enabled: true, url: `http://127.0.0.1:${port}/`, ...http },
      },
      { deployName: 'staging' },
    );
  }

  function logNumbered(count: number, from = 0): void {
    for (let n = from; n < from + count; n++) logging.logger.info({ n }, 'record %d', n);
  }

  function warnings(): string[] {
    return stderr.records.filter((record) => record.stream === 'logstash_http').map((record) => record.msg);
  }

  it('posts JSON arrays of version 1 events with Keel fields and basic auth', async () => {
    await useHttp(await receiver.listen(), { max_records: 1, user: 'svc', password: 's3cret' });
    logging
      .forResource('payments')
      .warn({ tags: { customer: 'acme' }, extra: { order: 17 }, token: 't' }, 'slow');
    await waitFor(() => receiver.posts.length === 1, 10_000, 'the post');

    const [post] = receiver.posts;
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers.authorization).toBe(`Basic ${Buffer.from('svc:s3cret').toString('base64')}`);
    expect(post.events).toEqual([
      expect.objectContaining({
        '@version': '1',
        message: 'slow',
        level: 'WARNING',
        service_name: 'billing_api',
        deploy_name: 'staging',
        levelname: 'WARNING',
        logger: 'billing_api.payments',
        resource: 'payments',
        tags: { customer: 'acme' },
        extra: { order: 17 },
        token: '[redacted]',
      }),
    ]);
  });

  it('sends a batch as soon as max_records are queued, and the rest on flush', async () => {
    await useHttp(await receiver.listen(), { max_records: 10, max_time_seconds: 3600 });
    logNumbered(25);
    await waitFor(() => receiver.posts.length === 2, 10_000, 'two full batches');
    // With an hour to wait, the last five can only leave because of the flush.
    expect(receiver.posts.map((post) => post.events.length)).toEqual([10, 10]);

    await logging.flush();
    expect(receiver.posts.map((post) => post.events.length)).toEqual([10, 10, 5]);
    expect(receiver.events.map((event) => event.n)).toEqual(Array.from({ length: 25 }, (_, n) => n));
  });

  it('sends a partial batch once max_time_seconds have passed', async () => {
    await useHttp(await receiver.listen(), { max_records: 1000, max_time_seconds: 0.2 });
    logNumbered(3);
    await waitFor(() => receiver.posts.length === 1, 10_000, 'the timed batch');

    expect(receiver.posts[0].events.map((event) => event.n)).toEqual([0, 1, 2]);
  });

  it('loses nothing while the receiver answers', async () => {
    await useHttp(await receiver.listen(), { max_records: 50, max_time_seconds: 0.05 });
    for (let burst = 0; burst < 10; burst++) {
      logNumbered(100, burst * 100);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await logging.close();

    expect(receiver.events.map((event) => event.n)).toEqual(Array.from({ length: 1000 }, (_, n) => n));
    expect(Math.max(...receiver.posts.map((post) => post.events.length))).toBeLessThanOrEqual(50);
    expect(logging.droppedRecords()).toEqual({});
    expect(warnings()).toEqual([]);
  });

  it('retries a batch the receiver fails with backoff and delivers it once', async () => {
    let failures = 2;
    receiver.answer = () => (failures-- > 0 ? 503 : 200);
    await useHttp(await receiver.listen(), {
      max_records: 5,
      backoff_seconds: 0.05,
      max_backoff_seconds: 0.1,
    });
    logNumbered(5);
    await logging.flush();

    expect(receiver.events.map((event) => event.n)).toEqual([0, 1, 2, 3, 4]);
    expect(warnings()).toEqual([
      'logstash_http is failing (HTTP 503); records are queued up to 10000, then dropped',
      'logstash_http works again; 0 records were dropped meanwhile',
    ]);
  });

  it('buffers up to the bound while the receiver is down, counts the drops, warns once, and recovers', async () => {
    const port = await receiver.listen();
    await receiver.close();
    receiver = new Receiver();
    await useHttp(port, {
      max_records: 10,
      max_queue_records: 20,
      max_time_seconds: 0.05,
      backoff_seconds: 0.05,
      max_backoff_seconds: 0.2,
    });
    logNumbered(50);
    // Let several retries fail: still one warning for the whole outage.
    await waitFor(() => warnings().length === 1, 10_000, 'the outage warning');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(logging.droppedRecords()).toEqual({ logstash_http: 30 });
    expect(warnings()).toHaveLength(1);
    // The queue fills before the first request fails, so that is the reason the one warning gives.
    expect(warnings()[0]).toBe('logstash_http is failing (queue full); records beyond 20 queued are dropped');

    await receiver.listen(port);
    await logging.flush();
    expect(receiver.events.map((event) => event.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(warnings()).toEqual([
      expect.any(String),
      'logstash_http works again; 30 records were dropped meanwhile',
    ]);
  });

  it('drops a batch the receiver rejects, once, and keeps sending later ones', async () => {
    receiver.answer = (post) => (post.events.some((event) => event.n === 0) ? 400 : 200);
    await useHttp(await receiver.listen(), { max_records: 2 });
    logNumbered(4);
    await logging.flush();

    expect(receiver.events.map((event) => event.n)).toEqual([2, 3]);
    expect(logging.droppedRecords()).toEqual({ logstash_http: 2 });
    expect(warnings()[0]).toBe('logstash_http is failing (HTTP 400); rejected batches are dropped');
  });

  it('gives up on an unreachable receiver when close times out, counting what it could not send', async () => {
    const port = await receiver.listen();
    await receiver.close();
    receiver = new Receiver();
    await useHttp(port, { max_records: 10, backoff_seconds: 0.05, max_backoff_seconds: 0.1 });
    logNumbered(15);
    await logging.close(300);

    expect(logging.droppedRecords()).toEqual({ logstash_http: 15 });
  });
});
