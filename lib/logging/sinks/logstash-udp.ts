import type dgram from 'node:dgram';
import net from 'node:net';
import { DeliveryTracker } from '../delivery';
import { OutageReporter } from '../outage';
import { safeJson, type LogEntry } from '../record';
import { toLogstashEvent } from './logstash-event';
import type { LogSink, SinkContext } from './types';

export interface LogstashUdpOptions {
  host: string;
  port: number;
  /** The `host` field of each event. */
  hostName: string;
}

/** One datagram per record. The host name is resolved on each send, so a logstash that moves is followed. */
export class LogstashUdpSink implements LogSink {
  readonly name = 'logstash_udp';
  private readonly delivery = new DeliveryTracker();
  private readonly socket: dgram.Socket;
  private readonly outage: OutageReporter;

  constructor(
    private readonly options: LogstashUdpOptions,
    private readonly context: SinkContext,
  ) {
    this.outage = new OutageReporter(this.name, context.warn, () => context.drops.of(this.name));
    // Required here: the sink is rarely configured, and every start would load node:dgram for it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.socket = (require('node:dgram') as typeof dgram).createSocket(
      net.isIPv6(options.host) ? 'udp6' : 'udp4',
    );
    this.socket.on('error', (error) => this.outage.trouble(error.message, 'its records are dropped'));
    this.socket.unref();
  }

  private readonly sent = (error: Error | null): void => {
    if (error) {
      this.outage.trouble(error.message, 'its records are dropped until it works again');
      this.context.drops.add(this.name, 1);
    } else {
      this.outage.clear();
    }
    this.delivery.settle(1);
  };

  write(entry: LogEntry): void {
    this.delivery.accept();
    const datagram = safeJson(toLogstashEvent(entry.record, this.options.hostName));
    this.socket.send(datagram, this.options.port, this.options.host, this.sent);
  }

  flush(): Promise<void> {
    return this.delivery.whenSettled();
  }

  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
