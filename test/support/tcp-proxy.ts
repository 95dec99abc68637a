import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP forwarder on 127.0.0.1 to `target` (`host:port`) that a test can cut: `cut()` drops every
 * connection and hangs up on new ones until `mend()`, as a network partition between one client and
 * a server that others still reach.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private open = true;
  private readonly server = createServer((client) => this.forward(client));

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: string): Promise<TcpProxy> {
    const colon = target.lastIndexOf(':');
    const proxy = new TcpProxy({ host: target.slice(0, colon), port: Number(target.slice(colon + 1)) });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `127.0.0.1:<port>` of the forwarder. */
  get endpoint(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  cut(): void {
    this.open = false;
    for (const socket of this.sockets) socket.destroy();
  }

  mend(): void {
    this.open = true;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private forward(client: Socket): void {
    if (!this.open) {
      client.destroy();
      return;
    }
    const upstream = connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
