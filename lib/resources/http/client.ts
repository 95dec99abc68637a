import { performance } from 'node:perf_hooks';
import { inject } from '../../container/injection';
import type { Agent } from 'undici';
import { resource } from '../../container/decorators';
import { LOGGER, METRICS, RESOURCE_NAME, SERVICE, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import type { ResourceHealth } from '../../lifecycle/manager';
import { ResourceStatus } from '../../lifecycle/status';
import type { Counter, Gauge, Histogram, MeterFactory } from '../../metrics';
import { Policy, type BreakerReport, type BreakerTransition } from '../../resilience';
import { breakerOptions } from '../../resilience/settings';
import type { SettingsView } from '../../settings/types';
import { isTimerMs, MAX_TIMER_MS } from '../../settings/formats';
import { Discovery } from '../registry/discovery';
import type { RegistryEntry } from '../registry/entry';
import { contextRequestId, REQUEST_ID_HEADER } from '../../context';
import type { HttpMethod } from './decorators';
import { HttpClientError } from './errors';
import { tracedAttempt } from './tracing';
import { httpClientSchema, type HttpClientSettings } from './settings';

export interface HttpRequestOptions {
  headers?: Record<string, string>;
  /** A string or bytes as they are; anything else is sent as JSON. */
  body?: unknown;
  query?: Record<string, string | number | boolean>;
  /** Overrides the `timeout_ms` setting (one attempt) for this request. */
  timeoutMs?: number;
  /** Overrides the `total_timeout_ms` setting (every attempt and the delays between) for this request. */
  totalTimeoutMs?: number;
  /** Overrides the `retries` setting; only idempotent requests are ever retried. */
  retries?: number;
  /** Whether the request may be sent twice; default: by its method (GET, HEAD, OPTIONS, PUT, DELETE). */
  idempotent?: boolean;
  /** The response to use when the request fails (its error as argument), instead of the rejection. */
  fallback?: (error: Error) => Response | Promise<Response>;
  /** Sent as `x-request-id`; defaults to the id of the HTTP request being served, if any. */
  requestId?: string;
  signal?: AbortSignal;
}

/** Methods a retry cannot apply twice (RFC 9110 §9.2.2). */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Answers of a proxy or a server that did not handle the request: a failure, worth another attempt. */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);
/** Attempt errors the breaker counts and a retry may repeat. */
const FAILURES: ReadonlySet<string> = new Set(['HTTP_CLIENT_TIMEOUT', 'HTTP_CLIENT_NETWORK']);
const BREAKER_STATES = { closed: 0, half_open: 1, open: 2 } as const;

type Undici = typeof import('undici');
/**
 * undici's fetch, typed as answering the platform's `Response`, the type a user's code names:
 * undici declares a `Response` class of its own, which the global type does not accept (TS2322 in
 * a strict project), though the two have the same members.
 */
type Fetch = (url: URL, init: NonNullable<Parameters<Undici['fetch']>[1]>) => Promise<Response>;

/**
 * An HTTP client on undici's fetch, every request through a resilience `Policy`: a bulkhead, a
 * total timeout, a timeout per attempt, retries of idempotent requests on the jittered schedule
 * (or after `Retry-After`), and a circuit breaker per origin, or per instance with `service`, where
 * an instance whose breaker is open is not picked. The current request id is passed on; meters
 * per target host and per breaker. Its connections are closed on stop.
 */
@resource({ settings: httpClientSchema, name: 'http_client' })
export class HttpClientResource {
  private undici?: Undici;
  private agent?: Agent;
  private closed = false;
  private discovery?: Pick<Discovery, 'pick' | 'watch' | 'instances'>;
  private readonly requests: Counter;
  private readonly durations: Histogram;
  private readonly breakerState: Gauge;
  private readonly transitions: Counter;
  private readonly rejections: Counter;
  private readonly attempts: Counter;
  private policy?: Policy<Response>;
  private policySettings?: HttpClientSettings;
  private unwatch?: () => void;

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
    this.breakerState = meters.gauge('http_client_breaker_state', {
      help: 'Circuit breaker of each target (origin, or instance id with service): 0 closed, 1 half-open, 2 open',
      labelNames: ['target'],
    });
    this.transitions = meters.counter('http_client_breaker_transitions_total', {
      help: 'Circuit breaker changes, by target and the state entered',
      labelNames: ['target', 'state'],
    });
    this.rejections = meters.counter('http_client_rejections_total', {
      help: 'Requests the policy ended without an attempt or a result: breaker_open, bulkhead_full, timeout',
      labelNames: ['target', 'reason'],
    });
    this.attempts = meters.counter('http_client_attempts_total', {
      help: 'Attempts through a circuit breaker, by target and outcome: success, failure, rejected',
      labelNames: ['target', 'outcome'],
    });
  }

  /** undici is loaded here rather than at import: services without a client do not pay for it. */
  async start(): Promise<void> {
    const { service } = this.settings.value();
    if (service !== '') {
      const discovery = this.findDiscovery();
      this.discovery = discovery;
      // The breakers of instances that left the registry go with them.
      this.unwatch = discovery.watch(service, (instances) =>
        this.policy?.retain(new Set(instances.map((instance) => instance.instance_id))),
      );
    }
    // `require`, not `import()`: jest's vm refuses a dynamic import inside Keel's bundle.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.undici ??= require('undici') as Undici;
    this.agent = new this.undici.Agent({ connections: this.settings.value().connections });
    this.closed = false;
  }

  /** Waits for requests in flight (each bounded by its timeout), then closes every connection. */
  async stop(): Promise<void> {
    this.closed = true;
    this.unwatch?.();
    await this.agent?.close();
    this.agent = undefined;
  }

  /**
   * STARTED, with every breaker's state; the text names the open ones. Readiness is held down only
   * with `breaker.affects_readiness`, and only while every breaker is open.
   */
  status(): ResourceHealth {
    const breakers = this.breakers();
    const open = breakers.filter((breaker) => breaker.state !== 'closed');
    if (open.length === 0)
      return breakers.length === 0 ? ResourceStatus.STARTED : { status: ResourceStatus.STARTED, breakers };
    const allOpen = open.length === breakers.length;
    return {
      status: ResourceStatus.STARTED,
      text: `circuit breaker ${open.map((breaker) => `${breaker.target} ${breaker.state}`).join(', ')}`,
      ...(allOpen && this.settings.value().breaker.affects_readiness && { ready: false }),
      breakers,
    };
  }

  /** The state of each target's circuit breaker. */
  breakers(): BreakerReport[] {
    return this.policy?.report() ?? [];
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
   * rejects with HttpClientError when the only attempt got none, with PolicyError when the policy
   * gave up (`POLICY_RETRIES_EXHAUSTED` with the last attempt's error as cause, `POLICY_TIMEOUT`, `POLICY_BREAKER_OPEN`,
   * `POLICY_BULKHEAD_FULL`).
   */
  request(method: HttpMethod, path: string, options: HttpRequestOptions = {}): Promise<Response> {
    for (const option of ['timeoutMs', 'totalTimeoutMs'] as const) {
      const value = options[option];
      if (value !== undefined && !isTimerMs(value)) {
        return Promise.reject(
          new HttpClientError(
            'HTTP_CLIENT_INVALID_OPTION',
            `${method} ${path} on http client '${this.name}': ${option} must be an integer from 0 to ${MAX_TIMER_MS}, got ${String(value)}`,
          ),
        );
      }
    }
    const settings = this.settings.value();
    const policy = this.policyOf(settings);
    const tried = new Set<string>();
    const timeoutMs = options.timeoutMs ?? settings.timeout_ms;
    const init = this.requestInit(method, options);
    return policy.execute(
      async ({ signal, number: attempt }) => {
        const { fetch, agent } = this.open();
        const target = this.target(settings, tried, policy, path);
        const url = this.url(path, options.query, target.baseUrl);
        return policy.guard(target.key, async () => {
          const began = performance.now();
          try {
            const response = await tracedAttempt(
              this.service.tracing,
              method,
              url,
              attempt - 1,
              init.headers,
              (headers) => fetch(url, { ...init, headers, dispatcher: agent, signal }),
            );
            this.record(url.host, method, response.status, began);
            return response;
          } catch (error) {
            if (options.signal?.aborted === true) throw error;
            const failure = this.failure(error, method, url, timeoutMs);
            this.record(
              url.host,
              method,
              failure.code === 'HTTP_CLIENT_TIMEOUT' ? 'timeout' : 'network',
              began,
            );
            throw failure;
          }
        });
      },
      {
        signal: options.signal,
        retry: (options.idempotent ?? IDEMPOTENT.has(method)) && !this.closed,
        retries: options.retries,
        timeoutMs: options.timeoutMs,
        totalTimeoutMs: options.totalTimeoutMs,
        fallback: options.fallback,
      },
    );
  }

  /** The policy of these settings: made again, with new breakers, only when the settings change. */
  private policyOf(settings: HttpClientSettings): Policy<Response> {
    if (this.policy !== undefined && this.policySettings === settings) return this.policy;
    const { breaker, bulkhead } = settings;
    this.policySettings = settings;
    this.policy = new Policy<Response>({
      name: this.name,
      timeoutMs: settings.timeout_ms,
      totalTimeoutMs: settings.total_timeout_ms,
      retry: {
        retries: settings.retries,
        backoffMs: settings.backoff_ms,
        maxBackoffMs: settings.max_backoff_ms,
      },
      breaker: breakerOptions(breaker),
      bulkhead: { maxConcurrent: bulkhead.max_concurrent, maxQueued: bulkhead.max_queued },
      isFailure: (error) => error instanceof HttpClientError && FAILURES.has(error.code),
      isRetryable: (error) =>
        error instanceof HttpClientError &&
        (FAILURES.has(error.code) || error.code === 'HTTP_CLIENT_NO_INSTANCE'),
      isFailedResult: (response) => RETRIED_STATUSES.has(response.status),
      retryAfterMs: (response) => retryAfterMs(response.headers.get('retry-after')),
      discard: (response) => void response.body?.cancel().catch(() => undefined),
      observer: {
        transition: (transition) => this.transition(transition),
        rejected: (target, reason) => this.rejections.labels({ target, reason }).inc(),
        attempt: (target, outcome) => this.attempts.labels({ target, outcome }).inc(),
        retrying: (attempt, delayMs) =>
          this.log.debug(
            { attempt, delay_ms: delayMs },
            `${this.name}: attempt ${attempt} failed, retrying in ${delayMs} ms`,
          ),
      },
    });
    return this.policy;
  }

  /** Each outage is logged once as it begins and once as it ends; the probes between at debug. */
  private transition({ target, from, to, cause }: BreakerTransition): void {
    this.breakerState.labels({ target }).set(BREAKER_STATES[to]);
    this.transitions.labels({ target, state: to }).inc();
    if (to === 'open' && from === 'closed') {
      this.log.warn(
        { target, err: cause instanceof Error ? cause : undefined },
        `${this.name}: circuit breaker of ${target} opened${cause instanceof Error ? ` (${cause.message})` : ''}; a probe in ${this.settings.value().breaker.half_open_after_ms} ms`,
      );
    } else if (to === 'closed') {
      this.log.info({ target }, `${this.name}: circuit breaker of ${target} closed: the probe succeeded`);
    } else {
      this.log.debug({ target }, `${this.name}: circuit breaker of ${target} ${to}`);
    }
  }

  private open(): { fetch: Fetch; agent: Agent } {
    if (this.closed) throw new HttpClientError('HTTP_CLIENT_CLOSED', 'the HTTP client is stopped');
    if (this.undici === undefined || this.agent === undefined) {
      throw new HttpClientError(
        'HTTP_CLIENT_NOT_STARTED',
        'the HTTP client is used before its start hook ran',
      );
    }
    return { fetch: this.undici.fetch as unknown as Fetch, agent: this.agent };
  }

  /**
   * The breaker key and base URL of this attempt: the origin of `base_url` (or of an absolute
   * path), or with `service` an instance Discovery picks among those whose breaker admits a call,
   * preferring one this request has not tried.
   */
  private target(
    settings: HttpClientSettings,
    tried: Set<string>,
    policy: Policy<Response>,
    path: string,
  ): { key: string; baseUrl: string } {
    if (settings.service === '') {
      const baseUrl = settings.base_url;
      return { key: this.url(path, undefined, baseUrl).origin, baseUrl };
    }
    const discovery = this.discovery!;
    // Only instances with the server this client calls: one without it is not a target to fail on.
    const serving = (entry: RegistryEntry) => serverAddress(entry, settings.server) !== undefined;
    const instance = discovery.pick(
      settings.service,
      tried,
      (entry) => serving(entry) && policy.admits(entry.instance_id),
    );
    if (instance === undefined) {
      const known = discovery.instances(settings.service).filter(serving).length;
      if (known > 0) {
        throw policy.rejection(
          'POLICY_BREAKER_OPEN',
          settings.service,
          tried.size,
          `${this.name}: the circuit breaker of every instance of ${settings.service} (${known}) is open`,
        );
      }
      const any = discovery.instances(settings.service).length > 0;
      throw new HttpClientError(
        'HTTP_CLIENT_NO_INSTANCE',
        `${this.name}: no live instance of ${settings.service} in the registry${any ? ` with an HTTP server '${settings.server || 'http'}'` : ''}`,
      );
    }
    const address = serverAddress(instance, settings.server)!;
    tried.add(instance.instance_id);
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    return { key: instance.instance_id, baseUrl: `http://${host}:${address.port}` };
  }

  /** The node declared as Discovery (whatever a test put in its place), else an instance of a subclass. */
  private findDiscovery(): Pick<Discovery, 'pick' | 'watch' | 'instances'> {
    const declared = this.service.graph.byToken.get(Discovery);
    if (declared !== undefined)
      return this.service.instance(declared.name) as Pick<Discovery, 'pick' | 'watch' | 'instances'>;
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

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
