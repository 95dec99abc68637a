import type { DropCounter } from '../drops';
import type { Warn } from '../outage';
import type { LogEntry } from '../record';

/** Where records go. `write` never throws for a slow or absent receiver: it buffers, or drops and counts. */
export interface LogSink {
  /** Label of the stream in dropped-record counts and warnings. */
  readonly name: string;
  write(entry: LogEntry): void;
  /** Resolves when every record written before the call is written, sent, or counted as dropped. */
  flush(): Promise<void>;
  /** Flushes, giving up on remote receivers at `deadline` (epoch ms), then releases files and sockets. */
  close(deadline: number): Promise<void>;
}

export interface SinkContext {
  drops: DropCounter;
  /** The stderr path: never routed back into the sinks, so a failing stream cannot feed itself. */
  warn: Warn;
  /** A warning through the service's own streams: for a stream back in service to say what it lost. */
  notice: Warn;
}
