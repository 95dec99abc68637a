import { inject } from '../container/injection';
import { resource } from '../container/decorators';
import { LOGGER, METRICS_REGISTRY, SERVICE, SETTINGS } from '../container/tokens';
import { instanceIdentity } from '../identity/instance';
import type { Log } from '../lifecycle/log';
import type { ServiceHandle } from '../lifecycle/service-handle';
import { metricsSchema, MetricsReporters, type Meters, type MetricsSettings } from '../metrics';
import type { SettingsView } from '../settings/types';

/**
 * Pushes the service's meters to carbon, a file or stdout every `collect_frequency` seconds, as
 * `system.resources.metrics.handlers` says; the pull side is the report server's `/metrics`.
 */
@resource({ settings: metricsSchema, name: 'metrics' })
export class MetricsResource {
  private reporters?: MetricsReporters;

  constructor(
    @inject(SETTINGS) private readonly settings: SettingsView<MetricsSettings>,
    @inject(METRICS_REGISTRY) readonly meters: Meters,
    @inject(SERVICE) private readonly service: ServiceHandle,
    @inject(LOGGER) private readonly log: Log,
  ) {}

  /** Whether `GET /metrics` should answer (`handlers.prometheus.enabled`). */
  get prometheusEnabled(): boolean {
    return this.settings.value().handlers.prometheus.enabled;
  }

  async start(): Promise<void> {
    this.reporters = new MetricsReporters(this.meters, this.settings.value(), {
      serviceName: this.service.name,
      deployName: this.service.deployName(),
      instance: instanceIdentity(),
      logger: {
        warn: (message) => this.log.warn({}, message),
        info: (message) => this.log.info({}, message),
      },
    });
    await this.reporters.start();
  }

  /** Flushes the last period before the process goes. */
  async stop(): Promise<void> {
    await this.reporters?.stop();
    this.reporters = undefined;
  }
}
