import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from '../../container/inversify';
import type { Agent, Response } from 'undici';
import { resource } from '../../container/decorators';
import { LOGGER, METRICS, RESOURCE_NAME, SERVICE, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import type { Counter, Histogram, MeterFactory } from '../../metrics';
import type { SettingsView } from '../../settings/types';
import { Discovery } from '../registry/discovery';
import type { RegistryEntry } from '../registry/entry';
import { contextRequestId, REQUEST_ID_HEADER } from '../../context';
import type { HttpMethod } from './decorators';
import { HttpClientError } from './errors';
import { httpClientSchema, type HttpClientSettings } from './settings';

export interface HttpRequestOptions {
  headers?: Record<string, string>;
  /** A string or bytes as they are; anything else is sent as JSON. */
  body?: unknown;
  query?: Record<string, string | number | boolean>;
  /** Overrides the `timeout_ms` setting for this request. */
  timeoutMs?: number;
  /** Overrides the `retries` setting; only idempotent methods are ever retried. */
  retries?: number;
  /** Sent as `x-request-id`; defaults to the id of the HTTP request being served, if any. */
  requestId?: string;
  signal?: AbortSignal;
}

/** Methods a retry cannot apply twice (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Answers of a proxy or a server that did not handle the request: worth another attempt. */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

type Undici = typeof import('undici');

/**
 * An HTTP client on undici's fetch: base URL, a timeout per attempt, retries with exponential
 * backoff for idempotent methods, the current request id passed on, and meters per target host.
 * Its connections are closed on stop.
 */
@resource({ settings: httpClientSchema, name: 'http_client' })
export class HttpClientResource {
  private undici?: Undici;
  private agent?: Agent;
  private closed = false;
  private discovery?: Pick<Discovery, 'pick'>;
  private readonly requests: Counter;
  private readonly durations: Histogram;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<HttpClientSettings>,
    @inject(LOGGER) private readonly log: Log,
    @inject(METRICS) meters: MeterFactory,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(RESOURCE_NAME) private readonly name: string,
  ) {
    // The id of the request being served goes out with each request: read from the request context.
    service.useRequestContext();
    this.requests = meters.counter('http_client_requests_total', {
      help: 'HTTP client attempts, by target host, method and status (timeout or network when none came)',
      labelNames: ['host', 'method', 'status'],
    });
    this.durations = meters.histogram('http_client_request_duration_seconds', {
      help: 'Time from an attempt to its response headers, by target host and method',
      labelNames: ['host', 'method'],
    });
  }

  /** undici is loaded here rather than at import: services without a client do not pay for it. */
  async start(): Promise<void> {
    if (this.settings.value().service !== '') this.discovery = this.findDiscovery();
    // `require`, not `import()`: jest's vm refuses a dynamic import inside Keel's bundle.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.undici ??= require('undici') as Undici;
    this.agent = new this.undici.Agent({ connections: this.settings.value().connections });
    this.closed = false;
  }

  /** Waits for requests in flight (each bounded by its timeout), then closes every connection. */
  async stop(): Promise<void> {
    this.closed = true;
    await this.agent?.close();
    this.agent = undefined;
  }

  get(path: string, options?: HttpRequestOptions): Promise<Response> {
    return this.request('GET', path, options);
  }

  post(path: string, options?: HttpRequestOptions): Promise<Response> {
    return this.request('POST', path, options);
  }

  put(path: string, options?: HttpRequestOptions): Promise<Response> {
    return this.request('PUT', path, options);
  }

  delete(path: string, options?: HttpRequestOptions): Promise<Response> {
    return this.request('DELETE', path, options);
  }

  /**
   * Resolves with the response, whatever its status, once an attempt gets one that is not retried;
   * rejects with HttpClientError when the last attempt got none.
   */
  async request(method: HttpMethod, path: string, options: HttpRequestOptions = {}): Promise<Response> {
    const settings = this.settings.value();
    const tried = new Set<string>();
    const attempts = 1 + (IDEMPOTENT.has(method) ? (options.retries ?? settings.retries) : 0);
    const timeoutMs = options.timeoutMs ?? settings.timeout_ms;
    const init = this.requestInit(method, options);
    for (let attempt = 1; ; attempt++) {
      const { fetch, agent } = this.open();
      let url: URL;
      try {
        url = this.url(path, options.query, this.baseUrl(settings, tried));
      } catch (error) {
        if (attempt === attempts || !(error instanceof HttpClientError)) throw error;
        this.log.debug({ err: error, attempt }, `${error.message}: retrying`);
        await sleep(this.backoffMs(attempt, settings));
        continue;
      }
      const began = performance.now();
      const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
      try {
        const response = await fetch(url, { ...init, dispatcher: agent, signal: AbortSignal.any(signals) });
        this.record(url.host, method, response.status, began);
        if (attempt === attempts || !RETRIED_STATUSES.has(response.status)) return response;
        await response.body?.cancel();
        this.log.debug(
          { url: url.href, status: response.status, attempt },
          `${method} ${url.href}: retrying`,
        );
      } catch (error) {
        if (options.signal?.aborted === true) throw error;
        const failure = this.failure(error, method, url, timeoutMs);
        this.record(url.host, method, failure.code === 'HTTP_CLIENT_TIMEOUT' ? 'timeout' : 'network', began);
        if (attempt === attempts || this.closed) throw failure;
        this.log.debug({ url: url.href, err: failure, attempt }, `${failure.message}: retrying`);
      }
      await sleep(this.backoffMs(attempt, settings));
    }
  }

  private open(): { fetch: Undici['fetch']; agent: Agent } {
    if (this.closed) throw new HttpClientError('HTTP_CLIENT_CLOSED', 'the HTTP client is stopped');
    if (this.undici === undefined || this.agent === undefined) {
      throw new HttpClientError(
        'HTTP_CLIENT_NOT_STARTED',
        'the HTTP client is used before its start hook ran',
      );
    }
    return { fetch: this.undici.fetch, agent: this.agent };
  }

  /** `base_url`, or with `service` an instance Discovery picks, preferring one this request has not tried. */
  private baseUrl(settings: HttpClientSettings, tried: Set<string>): string {
    if (settings.service === '') return settings.base_url;
    const instance = this.discovery?.pick(settings.service, tried);
    const address = instance === undefined ? undefined : serverAddress(instance, settings.server);
    if (instance === undefined || address === undefined) {
      throw new HttpClientError(
        'HTTP_CLIENT_NO_INSTANCE',
        `${this.name}: no live instance of ${settings.service} in the registry${instance === undefined ? '' : ` with an HTTP server '${settings.server || 'http'}'`}`,
      );
    }
    tried.add(instance.instance_id);
    return `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  }

  /** The node declared as Discovery (whatever a test put in its place), else an instance of a subclass. */
  private findDiscovery(): Pick<Discovery, 'pick'> {
    const declared = this.service.graph.byToken.get(Discovery);
    if (declared !== undefined) return this.service.instance(declared.name) as Pick<Discovery, 'pick'>;
    for (const node of this.service.graph.nodes) {
      const candidate = this.service.instance(node.name);
      if (candidate instanceof Discovery) return candidate;
    }
    throw new HttpClientError(
      'HTTP_CLIENT_NO_DISCOVERY',
      `system.resources.${this.name}.service is '${this.settings.value().service}', but ${this.service.name} has no Discovery resource: add discovery: Discovery to its resources`,
    );
  }

  private url(path: string, query: HttpRequestOptions['query'], baseUrl: string): URL {
    const url = baseUrl === '' ? new URL(path) : new URL(path, baseUrl);
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.append(key, String(value));
    return url;
  }

  private requestInit(
    method: HttpMethod,
    options: HttpRequestOptions,
  ): { method: string; headers: Record<string, string>; body?: string | Uint8Array } {
    const headers: Record<string, string> = { ...options.headers };
    const requestId = options.requestId ?? contextRequestId();
    if (requestId !== undefined && !hasHeader(headers, REQUEST_ID_HEADER))
      headers[REQUEST_ID_HEADER] = requestId;
    const { body } = options;
    if (body === undefined || typeof body === 'string' || body instanceof Uint8Array)
      return { method, headers, body };
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = 'application/json';
    return { method, headers, body: JSON.stringify(body) };
  }

  private failure(error: unknown, method: string, url: URL, timeoutMs: number): HttpClientError {
    if (error instanceof HttpClientError) return error;
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      return new HttpClientError(
        'HTTP_CLIENT_TIMEOUT',
        `${method} ${url.href}: no answer within ${timeoutMs} ms`,
        {
          cause: error,
        },
      );
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new HttpClientError('HTTP_CLIENT_NETWORK', `${method} ${url.href}: ${reason}`, { cause: error });
  }

  private record(host: string, method: string, status: number | string, began: number): void {
    this.requests.labels({ host, method, status }).inc();
    this.durations.labels({ host, method }).observe((performance.now() - began) / 1000);
  }

  /** Exponential, capped, with jitter over its upper half so that clients retrying together spread out. */
  private backoffMs(attempt: number, settings: HttpClientSettings): number {
    const ceiling = Math.min(settings.max_backoff_ms, settings.backoff_ms * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}

function serverAddress(
  instance: RegistryEntry,
  server: string,
): RegistryEntry['addresses'][string] | undefined {
  if (server !== '') return instance.addresses[server];
  const all = Object.values(instance.addresses);
  return instance.addresses.http ?? (all.length === 1 ? all[0] : undefined);
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}
