import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour = (request: IncomingMessage, response: ServerResponse, attempt: number) => void;

/** A real local upstream: `behaviour` decides each answer; every request is recorded. */
export class Upstream {
  readonly seen: IncomingMessage[] = [];
  private readonly server: Server;
  behaviour: Behaviour = (_request, response) => response.end('ok');

  constructor() {
    this.server = createServer((request, response) => {
      this.seen.push(request);
      this.behaviour(request, response, this.seen.length);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
