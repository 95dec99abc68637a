import http from 'node:http';
import type Https from 'node:https';
import { BatchingSink, type BatchingOptions, type Outcome } from './batching';
import type { SinkContext } from './types';

export interface LogstashHttpOptions extends BatchingOptions {
  url: string;
  /** Basic auth when not empty. */
  user: string;
  password: string;
  timeoutMs: number;
}

/** Bulk POSTs of JSON arrays of logstash v1 events, over one kept-alive connection. */
export class LogstashHttpSink extends BatchingSink {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly options: LogstashHttpOptions,
    context: SinkContext,
  ) {
    super('logstash_http', options, context);
    this.url = new URL(options.url);
    const Agent = this.url.protocol === 'https:' ? https().Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 1 });
    this.headers = { 'content-type': 'application/json' };
    if (options.user !== '') {
      const credentials = Buffer.from(`${options.user}:${options.password}`).toString('base64');
      this.headers.authorization = `Basic ${credentials}`;
    }
  }

  protected release(): void {
    this.agent.destroy();
  }

  protected send(batch: readonly string[]): Promise<Outcome> {
    const body = `[${batch.join(',')}]`;
    const transport = this.url.protocol === 'https:' ? https() : http;
    return new Promise((resolve) => {
      const request = transport.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'content-length': Buffer.byteLength(body) },
          // While closing, a request may not outlive the deadline.
          timeout: Math.max(1, Math.min(this.options.timeoutMs, this.deadline - Date.now())),
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(outcomeOf(response.statusCode ?? 0)));
          response.on('error', (error) => resolve({ ok: false, retry: true, reason: error.message }));
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)),
      );
      request.on('error', (error) => resolve({ ok: false, retry: true, reason: error.message }));
      request.end(body);
    });
  }
}

function outcomeOf(status: number): Outcome {
  if (status >= 200 && status < 300) return { ok: true };
  // Overload and server faults pass; any other answer would be the same for a retried batch.
  const retry = status === 408 || status === 429 || status >= 500;
  return { ok: false, retry, reason: `HTTP ${status}` };
}

/** node:https, with node:tls under it, for an https URL only: loading them took 4-5 ms of every cold start. */
function https(): typeof Https {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('node:https') as typeof Https;
}
