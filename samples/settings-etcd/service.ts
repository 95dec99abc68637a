import {
  defineSettings,
  inject,
  LOGGER,
  Microservice,
  microservice,
  resource,
  SETTINGS,
  taskTimer,
  type Log,
  type SettingsOf,
  type SettingsView,
} from '../../lib';

/** `system.resources.announcer`: every value can live in etcd and change while the service runs. */
export const announcerSchema = defineSettings({
  // live: the announcer reads them through its view on every announcement.
  greeting: { doc: 'What to say', format: String, default: 'Hello', live: true },
  audience: { doc: 'Who to say it to', format: String, default: 'world', live: true },
  volume: { doc: 'How loud', format: ['quiet', 'normal', 'loud'], default: 'normal', live: true },
  api_token: {
    doc: 'A secret: shown as [redacted] in logs and errors',
    format: String,
    default: 'dev-token',
    sensitive: true,
  },
});

type AnnouncerSettings = SettingsOf<typeof announcerSchema>;

@resource({ settings: announcerSchema })
export class Announcer {
  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<AnnouncerSettings>,
    @inject(LOGGER) private readonly log: Log,
  ) {}

  start(): void {
    this.log.info({}, `announcer started: ${this.announcement()}`);
  }

  /** Reads go through the view on every call, so a change in etcd applies without a restart. */
  announcement(): string {
    const text = `${this.settings.get('greeting')}, ${this.settings.get('audience')}!`;
    return this.settings.get('volume') === 'loud' ? text.toUpperCase() : text;
  }

  /** Called by Keel with the new and previous value of `system.resources.announcer` after each accepted change. */
  onSettingsChange(next: AnnouncerSettings, previous: AnnouncerSettings): void {
    const changed = (Object.keys(next) as Array<keyof AnnouncerSettings>).filter(
      (key) => next[key] !== previous[key],
    );
    this.log.info({}, `settings changed (${changed.join(', ')}): now "${this.announcement()}"`);
  }

  stop(): void {
    this.log.info({}, 'announcer stopped');
  }
}

@microservice({ name: 'settings_etcd', resources: { announcer: Announcer } })
export class AnnouncerService extends Microservice {
  constructor(
    private readonly announcer: Announcer,
    @inject(LOGGER) private readonly log: Log,
  ) {
    super();
  }

  @taskTimer({ interval: 1000, autostart: true })
  announce(): void {
    this.log.info({}, this.announcer.announcement());
  }
}
