// Type-level checks of route typing (compiled by `npm run typecheck`; nothing here runs).
import { Type } from '@sinclair/typebox';
import {
  defineRoute,
  http,
  pull,
  reply,
  respond,
  type AmqpResource,
  type HttpContext,
  type MessageMeta,
  type RouteContext,
} from '../../../lib';

import { expectType, type Equal } from '../../support/type-checks';

const order = {
  query: Type.Object({ verbose: Type.Optional(Type.Boolean()) }),
  body: Type.Object({ qty: Type.Number(), sku: Type.String() }),
  responses: { 201: Type.Object({ id: Type.Integer() }), 404: Type.Object({ error: Type.String() }) },
};
const getItem = defineRoute('GET', '/items/:sku/{:variant}', {
  responses: { 200: Type.Object({ sku: Type.String() }) },
});

export function checks(
  item: HttpContext<'/items/:sku'>,
  typed: HttpContext<'/orders/:id', typeof order>,
): void {
  expectType<Equal<typeof item.params.sku, string>>();
  // @ts-expect-error a typo of a path parameter
  void item.params.skuu;
  expectType<Equal<typeof typed.request.body.qty, number>>();
  expectType<Equal<typeof typed.state.body.sku, string>>();
  expectType<Equal<typeof typed.query.verbose, boolean | undefined>>();
  expectType<Equal<typeof typed.params.id, string>>();
  // @ts-expect-error a body property the schema does not have
  void typed.request.body.quantity;
  // @ts-expect-error a number is not a string
  const sku: number = typed.request.body.sku;
  void sku;
}

export class Routes {
  @http('POST', '/orders/:id', order)
  create(ctx: HttpContext<'/orders/:id', typeof order>) {
    return ctx.request.body.qty > 0 ? reply(201, { id: 1 }) : reply(404, { error: 'none' });
  }

  @http(getItem)
  item(ctx: RouteContext<typeof getItem>) {
    expectType<Equal<typeof ctx.params, { sku: string; variant?: string }>>();
    return { sku: ctx.params.sku };
  }

  // @ts-expect-error the handler's ctx names a parameter the template does not have
  @http('GET', '/items/:sku')
  misnamed(ctx: HttpContext<'/items/:skew'>) {
    return ctx.params.skew;
  }

  // @ts-expect-error 500 is not a declared response
  @http('POST', '/orders/:id', order)
  undeclared() {
    return reply(500, { id: 1 });
  }

  // @ts-expect-error the 201's body has no `name`
  @http('POST', '/orders/:id', order)
  wrongBody() {
    return reply(201, { name: 'x' });
  }
}

const Job = Type.Object({ id: Type.Integer() });

export class Handlers {
  @pull('jobs', { schema: Job })
  job(job: { id: number }, meta: MessageMeta): void {
    expectType<Equal<typeof job.id, number>>();
    void meta;
  }

  // @ts-expect-error the schema's id is a number
  @pull('jobs', { schema: Job })
  wrong(job: { id: string }): void {
    void job;
  }

  // @ts-expect-error the reply's schema wants a total
  @respond('quote', { schema: Job, reply: Type.Object({ total: Type.Number() }) })
  quote() {
    return { sum: 1 };
  }
}

export async function sends(amqp: AmqpResource): Promise<void> {
  await amqp.push('jobs', { id: 1 }, { schema: Job });
  // @ts-expect-error not the schema's message
  await amqp.push('jobs', { id: 'one' }, { schema: Job });
}
