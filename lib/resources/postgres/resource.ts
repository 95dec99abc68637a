import { readFileSync } from 'node:fs';
import type { ClientBase, Pool, PoolClient, PoolConfig } from 'pg';
import { resource } from '../../container/decorators';
import { inject } from '../../container/injection';
import { LOGGER, METRICS, RESOURCE_NAME, SERVICE, SETTINGS } from '../../container/tokens';
import type { Log } from '../../lifecycle/log';
import type { ResourceHealth } from '../../lifecycle/manager';
import type { ServiceHandle } from '../../lifecycle/service-handle';
import { ResourceStatus } from '../../lifecycle/status';
import type { Counter, Gauge, Histogram, MeterFactory } from '../../metrics';
import { Backoff, sleep } from '../../resilience/backoff';
import { maskText } from '../../settings/redact';
import type { SettingsView } from '../../settings/types';
import { contextRequestId } from '../../context';
import { connectingHealth } from '../decorated';
import { loadPg, type PgModule } from './driver';
import { PostgresError } from './errors';
import { postgresSchema, type PostgresSettings } from './settings';

/** A row as the driver returns it when the caller names no type. */
export type Row = Record<string, unknown>;

export interface QueryResult<R extends object = Row> {
  rows: R[];
  /** Rows returned, or affected by INSERT/UPDATE/DELETE; null for a command that counts none. */
  rowCount: number | null;
  /** `SELECT`, `INSERT`, ... */
  command: string;
  fields: readonly { name: string; dataTypeID: number }[];
}

export interface QueryOptions {
  /** The `query` label of `postgres_query_duration_seconds` and the name in errors; `unnamed` by default. */
  name?: string;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  readOnly?: boolean;
}

/** What `query` runs on: the resource (a connection from the pool) or a transaction (its connection). */
export interface Queryable {
  query<R extends object = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>>;
}

/** The connection of one `transaction(fn)`: every query of `fn` goes through it, and none after `fn` ends. */
export class Transaction implements Queryable {
  constructor(
    private readonly run: <R extends object>(
      sql: string,
      params?: readonly unknown[],
      options?: QueryOptions,
    ) => Promise<QueryResult<R>>,
  ) {}

  query<R extends object = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    return this.run<R>(sql, params, options);
  }
}

/** A connection checked out of the pool by a query or a transaction. */
class Lease {
  private released = false;

  constructor(readonly client: PoolClient) {}

  release(error?: Error): boolean {
    if (this.released) return false;
    this.released = true;
    this.client.release(error);
    return true;
  }
}

interface Meters {
  inUse: Gauge;
  waiting: Gauge;
  timeouts: Counter;
  duration: Histogram;
}

/** SQLSTATEs and socket errors that say the server is gone, not that the query was wrong. */
const CONNECTION_STATES = new Set(['57P01', '57P02', '57P03']);
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** pg-pool's message for a checkout that waited `connectionTimeoutMillis` for a free connection. */
const CHECKOUT_TIMEOUT = 'timeout exceeded when trying to connect';
/** After the cancel requests, how long the cancelled queries get to come back before their connections are closed. */
const CANCEL_GRACE_MS = 2000;
const ID_PATTERN = /[^\w.:-]/g;
/** What a comment may carry of a traceparent: nothing that could close it. */
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

/**
 * A PostgreSQL connection pool (node-postgres): checked in start, `query` and `transaction(fn)` with
 * typed rows, `CONNECTING` while the server is unreachable, pool and query metrics, and a stop that
 * lets running queries finish within `stop_timeout_ms`, then cancels them.
 */
@resource({ settings: postgresSchema, name: 'postgres' })
export class PostgresResource implements Queryable {
  private pool?: Pool;
  private pg?: PgModule;
  private readonly leases = new Set<Lease>();
  private readonly durations = new Map<string, { ok: Histogram; error: Histogram }>();
  private readonly meters: Meters;
  private stopping = false;
  private outage?: string;
  private probe?: AbortController;
  private onIdle?: () => void;
  private serverVersion?: string;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<PostgresSettings>,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
    @inject(METRICS) meterFactory: MeterFactory,
    @inject(RESOURCE_NAME) readonly name: string,
  ) {
    this.meters = {
      inUse: meterFactory.gauge('postgres_pool_in_use', {
        help: 'Connections checked out by a query or a transaction',
      }),
      waiting: meterFactory.gauge('postgres_pool_waiting', { help: 'Queries waiting for a free connection' }),
      timeouts: meterFactory.counter('postgres_pool_timeouts_total', {
        help: 'Queries that found no free connection within pool.acquire_timeout_ms',
      }),
      duration: meterFactory.histogram('postgres_query_duration_seconds', {
        help: 'Query time from send to result, by the name the caller gave (QueryOptions.name) and outcome',
        labelNames: ['query', 'outcome'],
      }),
    };
  }

  /** Opens the pool and checks the server with `SELECT version()`, retrying `reconnect.start_attempts` times. */
  async start(): Promise<void> {
    const settings = this.settings.value();
    this.pg = loadPg(this.name);
    if (settings.request_context !== 'off') this.service.useRequestContext();
    this.stopping = false;
    this.outage = undefined;
    const pool = new this.pg.Pool(this.poolConfig(settings));
    // An idle connection the server closed: the pool drops it; Keel learns the server may be gone.
    pool.on('error', (error) => this.lost(error));
    this.pool = pool;
    const { start_attempts, min_ms, max_ms } = settings.reconnect;
    const backoff = new Backoff({ initialMs: min_ms, maxMs: max_ms });
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await pool.query<{ server_version: string }>('SHOW server_version');
        this.serverVersion = result.rows[0]?.server_version;
        this.log.info(
          { target: this.target, server_version: this.serverVersion },
          `postgres '${this.name}' connected to ${this.target} (PostgreSQL ${this.serverVersion})`,
        );
        return;
      } catch (error) {
        const last = attempt >= Math.max(1, start_attempts) || !isConnectionError(error);
        if (last) {
          this.pool = undefined;
          await pool.end().catch(() => undefined);
          throw new PostgresError(
            'POSTGRES_CONNECT_FAILED',
            `postgres '${this.name}' cannot connect to ${this.target} after ${attempt} attempt(s): ${this.describe(error)}`,
            { cause: error, sqlState: sqlStateOf(error) },
          );
        }
        const delay = backoff.next();
        this.log.info(
          { attempt, delay_ms: delay, reason: this.describe(error) },
          `postgres '${this.name}' cannot reach ${this.target} yet; next attempt in ${delay} ms`,
        );
        await sleep(delay);
      }
    }
  }

  /**
   * Refuses new queries, waits `stop_timeout_ms` for the running ones (and transactions), cancels
   * those still running, and closes the pool.
   */
  async stop(): Promise<void> {
    const pool = this.pool;
    if (pool === undefined) return;
    this.stopping = true;
    this.probe?.abort();
    const { stop_timeout_ms } = this.settings.value();
    const running = this.leases.size + pool.waitingCount;
    if (running > 0) {
      this.log.info(
        { running, grace_ms: stop_timeout_ms },
        `postgres '${this.name}' waits for ${running} running queries`,
      );
    }
    if (!(await this.idle(stop_timeout_ms))) {
      const cancelled = await this.cancelRunning();
      this.log.warn(
        { cancelled, grace_ms: stop_timeout_ms },
        `postgres '${this.name}': ${cancelled} queries still running after ${stop_timeout_ms} ms were cancelled`,
      );
      if (!(await this.idle(CANCEL_GRACE_MS))) {
        for (const lease of this.leases) lease.release(new Error('the resource stopped'));
        this.leases.clear();
      }
    }
    this.pool = undefined;
    await pool.end();
    this.meters.inUse.set(0);
    this.meters.waiting.set(0);
  }

  /** CONNECTING while the server is unreachable; back to STARTED once a connection check succeeds. */
  status(): ResourceHealth {
    if (this.pool === undefined || this.outage === undefined) return ResourceStatus.STARTED;
    return connectingHealth(
      `cannot reach ${this.target}: ${this.outage}`,
      this.settings.value().affects_readiness,
    );
  }

  /** Where this resource connects, without the password: `postgres://user@host:port/database`. */
  get target(): string {
    const { url, host, port, database, user } = this.settings.value();
    if (url === '') return `postgres://${user}@${host}:${port}/${database}`;
    try {
      const parsed = new URL(url);
      parsed.password = '';
      parsed.search = '';
      return parsed.toString();
    } catch {
      return '[unparsable url]';
    }
  }

  /** Connections checked out now, and queries waiting for one. */
  get poolState(): { inUse: number; idle: number; waiting: number; total: number } {
    const pool = this.pool;
    return {
      inUse: this.leases.size,
      idle: pool?.idleCount ?? 0,
      waiting: pool?.waitingCount ?? 0,
      total: pool?.totalCount ?? 0,
    };
  }

  /** One statement on a connection from the pool; `R` is the row type the caller expects. */
  query<R extends object = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<R>> {
    const name = options?.name;
    // Callbacks down to the driver and one promise for the caller, as pool.query does: the three
    // awaits and two driver promises this path had cost ~0.8 µs of client CPU a query (RESULTS.md, issue 26).
    return new Promise((resolve, reject) =>
      this.checkout(
        name,
        (lease) =>
          this.send<R>(
            lease.client,
            sql,
            params,
            name,
            (result) => {
              this.release(lease);
              resolve(result);
            },
            (error) => {
              this.release(lease);
              reject(error);
            },
          ),
        reject,
      ),
    );
  }

  /**
   * `fn` inside BEGIN … COMMIT on one connection; ROLLBACK when it throws or rejects, and the
   * error passes on. The transaction object is for `fn`'s queries only.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const begin = beginStatement(options);
    const lease = await this.acquire('transaction');
    let done = false;
    const tx = new Transaction(
      <R extends object>(sql: string, params?: readonly unknown[], queryOptions?: QueryOptions) =>
        done
          ? Promise.reject<QueryResult<R>>(
              new PostgresError(
                'POSTGRES_QUERY_FAILED',
                `postgres '${this.name}': a query on a transaction that has ended`,
                {
                  query: queryOptions?.name,
                },
              ),
            )
          : this.runOn<R>(lease.client, sql, params, queryOptions?.name),
    );
    let broken: Error | undefined;
    try {
      await this.runOn(lease.client, begin, undefined, 'begin');
      let result: T;
      try {
        result = await fn(tx);
      } catch (error) {
        done = true;
        await lease.client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      }
      done = true;
      await this.runOn(lease.client, 'COMMIT', undefined, 'commit');
      return result;
    } catch (error) {
      if (isConnectionError(error)) broken = error as Error;
      throw error;
    } finally {
      done = true;
      this.release(lease, broken);
    }
  }

  /** The statement on `client`, timed and with its errors named, for the awaits of a transaction. */
  private runOn<R extends object>(
    client: ClientBase,
    sql: string,
    params: readonly unknown[] | undefined,
    name: string | undefined,
  ): Promise<QueryResult<R>> {
    return new Promise((resolve, reject) => this.send<R>(client, sql, params, name, resolve, reject));
  }

  private send<R extends object>(
    client: ClientBase,
    sql: string,
    params: readonly unknown[] | undefined,
    name: string | undefined,
    onResult: (result: QueryResult<R>) => void,
    onError: (error: PostgresError) => void,
  ): void {
    if (this.settings.value().request_context === 'off') {
      this.dispatch(client, sql, params, name, onResult, onError);
      return;
    }
    this.withContext(client, sql).then(
      (text) => this.dispatch(client, text, params, name, onResult, onError),
      (error: unknown) => {
        if (isConnectionError(error)) this.lost(error);
        onError(this.queryError(error, name));
      },
    );
  }

  private dispatch<R extends object>(
    client: ClientBase,
    text: string,
    params: readonly unknown[] | undefined,
    name: string | undefined,
    onResult: (result: QueryResult<R>) => void,
    onError: (error: PostgresError) => void,
  ): void {
    const began = performance.now();
    const failed = (error: unknown) => {
      this.timer(name).error.observe((performance.now() - began) / 1000);
      if (isConnectionError(error)) this.lost(error);
      onError(this.queryError(error, name));
    };
    try {
      const done = (error: Error | null, result: QueryResult<R>) => {
        if (error) return failed(error);
        this.timer(name).ok.observe((performance.now() - began) / 1000);
        if (this.outage !== undefined) this.reachable();
        onResult(result);
      };
      // Text and values, not a config object: pg copies an object's property descriptors (~0.8 µs).
      if (params === undefined) client.query<R>(text, done);
      else client.query<R>(text, params as unknown[], done);
    } catch (error) {
      // pg calls back with what the server or the connection says; a throw is a bad argument.
      failed(error);
    }
  }

  private queryError(error: unknown, name: string | undefined): PostgresError {
    return new PostgresError(
      'POSTGRES_QUERY_FAILED',
      `postgres '${this.name}' query ${name === undefined ? '' : `'${name}' `}failed: ${this.describe(error)}`,
      { cause: error, sqlState: sqlStateOf(error), query: name },
    );
  }

  /** A connection for a transaction, whose queries await. */
  private acquire(name: string | undefined): Promise<Lease> {
    return new Promise((resolve, reject) => this.checkout(name, resolve, reject));
  }

  /** A connection from the pool, tracked until `release`; `onError` with a named error when there is none. */
  private checkout(
    name: string | undefined,
    onLease: (lease: Lease) => void,
    onError: (error: PostgresError) => void,
  ): void {
    const pool = this.pool;
    if (pool === undefined || this.stopping) {
      onError(
        new PostgresError(
          this.stopping ? 'POSTGRES_STOPPED' : 'POSTGRES_NOT_STARTED',
          `postgres '${this.name}' is ${this.stopping ? 'stopping' : 'not started'}`,
          { query: name },
        ),
      );
      return;
    }
    pool.connect((error, client) => {
      this.showWaiting(pool);
      if (error) return onError(this.checkoutError(error, name));
      const lease = new Lease(client!);
      this.leases.add(lease);
      this.meters.inUse.set(this.leases.size);
      onLease(lease);
    });
    this.showWaiting(pool);
  }

  /**
   * The waiting gauge: checkouts queued with no idle connection to take (pg-pool queues every
   * checkout for a tick, even one an idle connection serves).
   */
  private showWaiting(pool: Pool): void {
    this.meters.waiting.set(Math.max(0, pool.waitingCount - pool.idleCount));
  }

  private release(lease: Lease, error?: Error): void {
    if (!lease.release(error)) return;
    this.leases.delete(lease);
    this.meters.inUse.set(this.leases.size);
    if (this.leases.size === 0) this.onIdle?.();
  }

  private checkoutError(error: unknown, name: string | undefined): PostgresError {
    const { acquire_timeout_ms, max } = { ...this.settings.value().pool };
    if ((error as Error).message === CHECKOUT_TIMEOUT) {
      this.meters.timeouts.inc();
      return new PostgresError(
        'POSTGRES_POOL_TIMEOUT',
        `postgres '${this.name}': no connection free within ${acquire_timeout_ms} ms (pool.acquire_timeout_ms); all ${max} (pool.max) are in use${name === undefined ? '' : `, query '${name}'`}`,
        { cause: error, query: name },
      );
    }
    if (isConnectionError(error)) this.lost(error);
    return new PostgresError(
      'POSTGRES_CONNECT_FAILED',
      `postgres '${this.name}' cannot connect to ${this.target}: ${this.describe(error)}`,
      {
        cause: error,
        sqlState: sqlStateOf(error),
        query: name,
      },
    );
  }

  /**
   * The request id as a comment (with the active span's W3C `traceparent` beside it while tracing
   * is on), or as the connection's application_name for this query (63 bytes: no room for the trace).
   */
  private async withContext(client: ClientBase, sql: string): Promise<string> {
    const id = contextRequestId()?.replace(ID_PATTERN, '').slice(0, 64);
    if (this.settings.value().request_context === 'comment') {
      const fields = [id ? `request_id=${id}` : '', this.traceparent()].filter((field) => field !== '');
      return fields.length === 0 ? sql : `/* ${fields.join(' ')} */ ${sql}`;
    }
    const base = this.applicationName();
    await client.query('SELECT set_config($1, $2, false)', [
      'application_name',
      id ? `${base} ${id}`.slice(0, 63) : base,
    ]);
    return sql;
  }

  /** `traceparent=00-<trace>-<span>-<flags>` of the span active here, or '' (tracing off, no span). */
  private traceparent(): string {
    const { tracing } = this.service;
    if (!tracing.enabled) return '';
    const headers: Record<string, unknown> = {};
    tracing.inject(headers);
    const { traceparent } = headers;
    return typeof traceparent === 'string' && TRACEPARENT.test(traceparent)
      ? `traceparent=${traceparent}`
      : '';
  }

  private timer(name = 'unnamed'): { ok: Histogram; error: Histogram } {
    let timer = this.durations.get(name);
    if (timer === undefined) {
      timer = {
        ok: this.meters.duration.labels({ query: name, outcome: 'ok' }),
        error: this.meters.duration.labels({ query: name, outcome: 'error' }),
      };
      this.durations.set(name, timer);
    }
    return timer;
  }

  /** The server went away (a query or an idle connection says so): CONNECTING, and checks until it is back. */
  private lost(error: unknown): void {
    if (this.stopping || this.pool === undefined || !isConnectionError(error)) return;
    const reason = this.describe(error);
    if (this.outage !== undefined) return;
    this.outage = reason;
    this.log.warn({ target: this.target, reason }, `postgres '${this.name}' lost ${this.target}: ${reason}`);
    void this.checkUntilBack();
  }

  private reachable(): void {
    if (this.outage === undefined) return;
    this.outage = undefined;
    this.probe?.abort();
    this.log.info({ target: this.target }, `postgres '${this.name}' reaches ${this.target} again`);
  }

  private async checkUntilBack(): Promise<void> {
    const probe = new AbortController();
    this.probe = probe;
    const settings = this.settings.value();
    const backoff = new Backoff({ initialMs: settings.reconnect.min_ms, maxMs: settings.reconnect.max_ms });
    while (!probe.signal.aborted && this.outage !== undefined) {
      await sleep(backoff.next(), probe.signal);
      if (probe.signal.aborted) return;
      // A client of its own, not one of the pool's: a pool full of stuck queries still says whether the server answers.
      const client = new this.pg!.Client(this.clientConfig(settings));
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        if (!probe.signal.aborted) this.reachable();
      } catch (error) {
        if (!probe.signal.aborted) this.outage = this.describe(error);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
  }

  /** Resolves true once no connection is checked out and no query waits for one, false after `ms`. */
  private idle(ms: number): Promise<boolean> {
    const quiet = () => this.leases.size === 0 && (this.pool?.waitingCount ?? 0) === 0;
    if (quiet()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.onIdle = undefined;
        resolve(false);
      }, ms);
      this.onIdle = () => {
        if (!quiet()) return;
        clearTimeout(timer);
        this.onIdle = undefined;
        resolve(true);
      };
    });
  }

  /** `pg_cancel_backend` for the server process of every checked-out connection; how many were asked. */
  private async cancelRunning(): Promise<number> {
    const pids = [...this.leases]
      .map((lease) => (lease.client as { processID?: unknown }).processID)
      .filter((pid): pid is number => typeof pid === 'number');
    if (pids.length === 0) return this.leases.size;
    const client = new this.pg!.Client(this.clientConfig(this.settings.value()));
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    } catch (error) {
      this.log.warn(
        { reason: this.describe(error) },
        `postgres '${this.name}' could not cancel the running queries: ${this.describe(error)}`,
      );
    } finally {
      await client.end().catch(() => undefined);
    }
    return pids.length;
  }

  private applicationName(): string {
    return (this.settings.value().application_name || this.service.name).slice(0, 63);
  }

  private clientConfig(settings: PostgresSettings): PoolConfig {
    const config: PoolConfig = {
      application_name: this.applicationName(),
      connectionTimeoutMillis: settings.pool.acquire_timeout_ms,
      statement_timeout: settings.statement_timeout_ms || undefined,
      idle_in_transaction_session_timeout: settings.idle_in_transaction_timeout_ms || undefined,
      ssl: this.tls(settings),
    };
    if (settings.url !== '') return { ...config, connectionString: settings.url };
    const { host, port, database, user, password } = settings;
    return { ...config, host, port, database, user, password };
  }

  private poolConfig(settings: PostgresSettings): PoolConfig {
    return {
      ...this.clientConfig(settings),
      max: settings.pool.max,
      idleTimeoutMillis: settings.pool.idle_timeout_ms,
    };
  }

  private tls(settings: PostgresSettings): PoolConfig['ssl'] {
    const { enabled, ca_file, cert_file, key_file, reject_unauthorized } = settings.tls;
    if (!enabled) return undefined;
    const read = (file: string, key: string) => {
      if (file === '') return undefined;
      try {
        return readFileSync(file, 'utf8');
      } catch (error) {
        throw new PostgresError(
          'POSTGRES_CONNECT_FAILED',
          `postgres '${this.name}': cannot read tls.${key} ${file}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    };
    return {
      rejectUnauthorized: reject_unauthorized,
      ca: read(ca_file, 'ca_file'),
      cert: read(cert_file, 'cert_file'),
      key: read(key_file, 'key_file'),
    };
  }

  /** An error's message with its SQLSTATE, masked: no URL credentials, no sensitive setting's value. */
  private describe(error: unknown): string {
    const state = sqlStateOf(error);
    const message =
      error instanceof Error
        ? error.message || (error as NodeJS.ErrnoException).code || error.name
        : String(error);
    const masked = maskText(message);
    return state === undefined ? masked : `${masked} (SQLSTATE ${state})`;
  }
}

function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function isConnectionError(error: unknown): boolean {
  if (error instanceof PostgresError)
    return error.code === 'POSTGRES_CONNECT_FAILED' || isConnectionError(error.cause);
  const state = sqlStateOf(error);
  if (state !== undefined) return state.startsWith('08') || CONNECTION_STATES.has(state);
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  const message = (error as Error | undefined)?.message ?? '';
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

const ISOLATION_LEVELS: readonly IsolationLevel[] = ['read committed', 'repeatable read', 'serializable'];

function beginStatement({ isolation, readOnly }: TransactionOptions): string {
  let statement = 'BEGIN';
  if (isolation !== undefined) {
    // Spliced into the statement: only the levels there are, never a caller's text.
    if (!ISOLATION_LEVELS.includes(isolation)) {
      throw new PostgresError(
        'POSTGRES_QUERY_FAILED',
        `unknown isolation level ${JSON.stringify(isolation)}; one of ${ISOLATION_LEVELS.join(', ')}`,
      );
    }
    statement += ` ISOLATION LEVEL ${isolation.toUpperCase()}`;
  }
  if (readOnly) statement += ' READ ONLY';
  return statement;
}
