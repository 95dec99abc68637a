import { inject, LOGGER, Microservice, microservice, resource, taskTimer, type Log } from '../../lib';

/** Holds the greetings in memory; the one resource with nothing below it. */
@resource()
export class GreetingStore {
  private readonly greetings = new Map<string, number>();

  constructor(@inject(LOGGER) private readonly log: Log) {}

  start(): void {
    this.log.info({}, 'store started');
  }

  record(name: string): number {
    const count = (this.greetings.get(name) ?? 0) + 1;
    this.greetings.set(name, count);
    return count;
  }

  stop(): void {
    this.log.info({}, 'store stopped');
  }
}

/** Knows who to greet next; needs the store, so it starts after it and stops before it. */
@resource()
export class Guestbook {
  private readonly guests = ['Ada', 'Grace', 'Linus'];
  private next = 0;

  constructor(
    readonly store: GreetingStore,
    @inject(LOGGER) private readonly log: Log,
  ) {}

  start(): void {
    this.log.info({}, 'guestbook started');
  }

  nextGuest(): string {
    return this.guests[this.next++ % this.guests.length];
  }

  stop(): void {
    this.log.info({}, 'guestbook stopped');
  }
}

@resource()
export class Greeter {
  constructor(
    private readonly guestbook: Guestbook,
    private readonly store: GreetingStore,
    @inject(LOGGER) private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    this.log.info({}, 'greeter started');
  }

  greet(): string {
    const guest = this.guestbook.nextGuest();
    return `Hello, ${guest}! (greeting #${this.store.record(guest)})`;
  }

  async stop(): Promise<void> {
    this.log.info({}, 'greeter stopped');
  }
}

@microservice({ name: 'hello', resources: { store: GreetingStore, guestbook: Guestbook, greeter: Greeter } })
export class HelloService extends Microservice {
  constructor(
    private readonly greeter: Greeter,
    @inject(LOGGER) private readonly log: Log,
  ) {
    super();
  }

  @taskTimer({ interval: 1000, autostart: true })
  greetSomeone(): void {
    this.log.info({}, this.greeter.greet());
  }
}
