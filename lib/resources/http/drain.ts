import type { Server } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { ParameterizedContext } from 'koa';
import type { Log } from '../../lifecycle/log';
import type { HttpState } from './context';

export interface DrainOutcome {
  /** Requests still unanswered when the grace ran out. */
  abandonedRequests: number;
  /** Sockets destroyed at the end: those of abandoned requests, and idle keep-alive ones. */
  destroyedSockets: number;
  timedOut: boolean;
}

/**
 * Knows the server's sockets and in-flight requests, and takes the server down without cutting
 * a request short: stop accepting, answer what is in flight with `Connection: close`, turn away
 * with 503 what arrives on a connection still open, and destroy what is left after the grace.
 */
export class Drain {
  private readonly sockets = new Set<Socket>();
  private inFlight = 0;
  private draining = false;
  private onIdle?: () => void;
  private run?: Promise<DrainOutcome>;

  constructor(private readonly server: Server) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('request', (_request, response: NodeJS.WritableStream) => {
      this.inFlight++;
      response.once('close', () => {
        this.inFlight--;
        if (this.inFlight === 0) this.onIdle?.();
      });
    });
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Idempotent: a second call waits for the first drain. */
  drain(graceMs: number, log: Log): Promise<DrainOutcome> {
    this.run ??= this.runDrain(graceMs, log);
    return this.run;
  }

  private async runDrain(graceMs: number, log: Log): Promise<DrainOutcome> {
    this.draining = true;
    const closed = new Promise<void>((resolve) => this.server.once('close', resolve));
    // http.Server#close() would also destroy idle keep-alive sockets at once, resetting a request
    // already on its way on one of them; the drain answers that request with 503 instead.
    NetServer.prototype.close.call(this.server);
    log.info(
      { inFlight: this.inFlight, sockets: this.sockets.size, graceMs },
      `draining: ${this.inFlight} request(s) in flight on ${this.sockets.size} connection(s)`,
    );
    const timedOut = await this.allAnswered(graceMs);
    const outcome: DrainOutcome = {
      abandonedRequests: this.inFlight,
      destroyedSockets: this.sockets.size,
      timedOut,
    };
    for (const socket of this.sockets) socket.destroy();
    // Clears node's connection-checking timer, which a plain net close leaves behind.
    this.server.close();
    await closed;
    const level = outcome.abandonedRequests > 0 ? 'warn' : 'info';
    log[level](
      { ...outcome },
      `drained: ${outcome.abandonedRequests} request(s) abandoned, ${outcome.destroyedSockets} socket(s) destroyed`,
    );
    return outcome;
  }

  /** Resolves true when the grace ran out first. */
  private allAnswered(graceMs: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(true), graceMs);
      this.onIdle = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
  }
}

/** The answer to a request that arrives on a connection still open while the server drains. */
export function turnAway(ctx: ParameterizedContext<HttpState>, retryAfterSeconds: number): void {
  ctx.set('Connection', 'close');
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.status = 503;
  ctx.body = { error: 'the server is shutting down', status: 503, request_id: ctx.state.requestId };
}
