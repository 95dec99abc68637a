import { AmqpResource, Microservice, microservice, respond, run, type MessageMeta } from '../../lib';
import { Quote, QuoteRequest } from './messages';
import { useSampleSettings } from './settings';

const PRICES: Record<string, number> = { 'sku-1': 9.5, 'sku-2': 20 };

/** Answers `price.quote`; an unknown SKU becomes an error reply, which the caller's request rejects with. */
@microservice({ name: 'pricing', resources: { amqp: AmqpResource } })
export class Pricing extends Microservice {
  @respond('price.quote', { schema: QuoteRequest, reply: Quote, summary: 'The price of a quantity of a SKU' })
  quote(request: { sku: string; quantity: number }, meta: MessageMeta): Quote {
    const unit = PRICES[request.sku];
    if (unit === undefined) throw new Error(`no price for ${request.sku}`);
    meta.log.info({ sku: request.sku }, `quoted ${request.sku}`);
    return { sku: request.sku, unit_price: unit, total: unit * request.quantity };
  }
}

useSampleSettings();
if (require.main === module) void run(Pricing);
