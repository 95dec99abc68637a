import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ParameterizedContext } from 'koa';
import type { Log } from '../../lifecycle/log';
import type { HttpState } from './context';

export interface DrainOutcome {
  /** Requests still unanswered when the grace ran out. */
  abandonedRequests: number;
  /** Sockets destroyed at the end: those of abandoned requests and of connections never quiet. */
  destroyedSockets: number;
  /** Keep-alive connections closed by the drain after `idleGraceMs` without a request. */
  closedIdleSockets: number;
  timedOut: boolean;
}

export interface DrainTiming {
  /** How long the listener keeps accepting once the drain began (endpoints that update late). */
  shutdownDelayMs: number;
  /** How long a connection may stay quiet, once the drain began, before the drain closes it. */
  idleGraceMs: number;
  /** From the listener's close, how long until whatever is left is destroyed. */
  timeoutMs: number;
}

interface Connection {
  /** Requests of this connection not yet answered. */
  active: number;
  /** When it last had nothing to answer (`performance.now()`). */
  quietSince: number;
  /** Upgraded (a WebSocket): never quiet; its owner closes it, the drain waits for that. */
  held?: boolean;
}

/**
 * Knows the server's connections and in-flight requests, and takes the server down without
 * cutting a request short. From the start of the drain every response carries
 * `Connection: close`, so node closes each connection right after its last answer; a connection
 * with nothing to answer is closed once it has been quiet for the idle grace, long enough for a
 * request already on its way to arrive and be answered. The listener closes after the shutdown
 * delay; what arrives after that on a connection still open is turned away with 503.
 */
export class Drain {
  private readonly connections = new Map<Socket, Connection>();
  private inFlight = 0;
  private draining = false;
  private listening = true;
  private onChange?: () => void;
  private run?: Promise<DrainOutcome>;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.connections.set(socket, { active: 0, quietSince: performance.now() });
      socket.once('close', () => {
        this.connections.delete(socket);
        this.onChange?.();
      });
    });
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      this.inFlight++;
      const connection = this.connections.get(request.socket);
      if (connection !== undefined) connection.active++;
      response.once('close', () => {
        this.inFlight--;
        if (connection !== undefined && --connection.active === 0) connection.quietSince = performance.now();
        this.onChange?.();
      });
    });
  }

  /** A socket taken over by an upgrade: the drain waits for it to close rather than closing it as quiet. */
  hold(socket: Socket): void {
    const connection = this.connections.get(socket);
    if (connection !== undefined) connection.held = true;
  }

  /** From the start of the drain: every response closes its connection. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Once the listener closed: a request on a connection still open gets 503. */
  get turnsAway(): boolean {
    return !this.listening;
  }

  /** Idempotent: a second call waits for the first drain. */
  drain(timing: DrainTiming, log: Log): Promise<DrainOutcome> {
    this.run ??= this.runDrain(timing, log);
    return this.run;
  }

  private async runDrain(timing: DrainTiming, log: Log): Promise<DrainOutcome> {
    this.draining = true;
    // However long a connection was quiet before, a request may be on its way on it right now.
    const began = performance.now();
    for (const connection of this.connections.values()) connection.quietSince = began;
    let closedIdleSockets = 0;
    const closeQuiet = () => {
      const now = performance.now();
      for (const [socket, { active, quietSince, held }] of this.connections) {
        if (active === 0 && held !== true && now - quietSince >= timing.idleGraceMs) {
          socket.destroy();
          closedIdleSockets++;
        }
      }
    };
    const sweep = setInterval(closeQuiet, Math.max(10, Math.floor(timing.idleGraceMs / 4)));
    log.info(
      { inFlight: this.inFlight, sockets: this.connections.size, ...timing },
      `draining: ${this.inFlight} request(s) in flight on ${this.connections.size} connection(s)`,
    );
    if (timing.shutdownDelayMs > 0) await sleep(timing.shutdownDelayMs);
    const closed = new Promise<void>((resolve) => this.server.once('close', resolve));
    // http.Server#close() would also destroy idle keep-alive sockets at once, resetting a request
    // already on its way on one of them; the idle grace above gives that request its answer.
    NetServer.prototype.close.call(this.server);
    this.listening = false;
    const timedOut = await this.allClosed(timing.timeoutMs);
    clearInterval(sweep);
    const outcome: DrainOutcome = {
      abandonedRequests: this.inFlight,
      destroyedSockets: this.connections.size,
      closedIdleSockets,
      timedOut,
    };
    for (const socket of this.connections.keys()) socket.destroy();
    // Clears node's connection-checking timer, which a plain net close leaves behind.
    this.server.close();
    await closed;
    const level = outcome.abandonedRequests > 0 ? 'warn' : 'info';
    log[level](
      { ...outcome },
      `drained: ${outcome.abandonedRequests} request(s) abandoned, ${outcome.destroyedSockets} socket(s) destroyed, ${closedIdleSockets} idle connection(s) closed`,
    );
    return outcome;
  }

  /** Resolves true when the time ran out before every connection was closed. */
  private allClosed(timeoutMs: number): Promise<boolean> {
    if (this.connections.size === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(true), timeoutMs);
      this.onChange = () => {
        if (this.connections.size > 0) return;
        clearTimeout(timer);
        this.onChange = undefined;
        resolve(false);
      };
    });
  }
}

/** The answer to a request that arrives on a connection still open after the listener closed. */
export function turnAway(ctx: ParameterizedContext<HttpState>, retryAfterSeconds: number): void {
  ctx.set('Connection', 'close');
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.status = 503;
  ctx.body = { error: 'the server is shutting down', status: 503, request_id: ctx.state.requestId };
}
