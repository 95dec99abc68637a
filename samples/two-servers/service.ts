import {
  http,
  HttpServerResource,
  inject,
  Microservice,
  microservice,
  reply,
  resource,
  resourceToken,
  SERVICE,
  type HttpContext,
  type HttpReply,
  type ServiceHandle,
} from '../../lib';

/**
 * Tamarco's two-servers example (reference 3.7): one HttpServerResource class under two names,
 * each with its own settings under `system.resources.<name>`.
 */
@resource()
export class Recommendations {
  private readonly picks = ['sheep', 'goats', 'alpacas'];

  pick(index: number): string {
    return this.picks[index % this.picks.length];
  }
}

/** Operator endpoints on the billing server, added through its router rather than a decorator. */
@resource()
export class BillingAdmin {
  constructor(
    @inject(resourceToken('billing_http_api')) billing: HttpServerResource,
    @inject(SERVICE) service: ServiceHandle,
  ) {
    billing.route('GET', '/admin/state', () => ({ state: service.state() }));
  }
}

@microservice({
  name: 'two_servers',
  resources: {
    recommendation_http_api: HttpServerResource,
    billing_http_api: HttpServerResource,
    recommendations: Recommendations,
    billing_admin: BillingAdmin,
  },
})
export class TwoServers extends Microservice {
  private invoices = 0;

  constructor(
    private readonly recommendations: Recommendations,
    readonly admin: BillingAdmin,
  ) {
    super();
  }

  @http('GET', '/recommendations/:index', { server: 'recommendation_http_api' })
  recommend(ctx: HttpContext): { pick: string } {
    return { pick: this.recommendations.pick(Number(ctx.params.index)) };
  }

  @http('POST', '/invoices', { server: 'billing_http_api' })
  invoice(): HttpReply<{ invoice: number }> {
    return reply(201, { invoice: ++this.invoices });
  }
}
