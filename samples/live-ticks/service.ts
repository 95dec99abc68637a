import {
  cron,
  HttpServerResource,
  Microservice,
  microservice,
  resource,
  websocket,
  type WebSocketConnection,
} from '../../lib';

interface Tick {
  at: string;
  listeners: number;
}

/** Everyone connected to /ticks, and what a tick sends them. */
@resource()
export class Listeners {
  private readonly connections = new Set<WebSocketConnection<never, Tick>>();

  @websocket('/ticks')
  join(connection: WebSocketConnection<never, Tick>): void {
    this.connections.add(connection);
    connection.onClose(() => this.connections.delete(connection));
  }

  broadcast(at: Date): void {
    const tick = { at: at.toISOString(), listeners: this.connections.size };
    // A client too slow to take it is skipped this tick (send() says so), never buffered without bound.
    for (const connection of this.connections) connection.send(tick);
  }
}

/** A tick a second on every open WebSocket: a cron schedule feeding WebSocket clients. */
@microservice({ name: 'live_ticks', resources: { http: HttpServerResource, listeners: Listeners } })
export class LiveTicks extends Microservice {
  constructor(private readonly listeners: Listeners) {
    super();
  }

  @cron('* * * * * *')
  async tick(_signal: AbortSignal, at: Date): Promise<void> {
    this.listeners.broadcast(at);
  }
}
