// Route and message typing as a user's project sees it: ctx.params from the template, the rest from schemas.
import { Type } from '@sinclair/typebox';
import {
  defineRoute,
  http,
  pull,
  reply,
  respond,
  subscribe,
  type AmqpResource,
  type HttpContext,
  type MessageMeta,
  type RouteContext,
} from 'keel';

import { expectType, type Equal } from './types';

const order = {
  query: Type.Object({ verbose: Type.Optional(Type.Boolean()) }),
  body: Type.Object({ qty: Type.Number(), sku: Type.String() }),
  responses: { 201: Type.Object({ id: Type.Integer() }) },
};
const item = defineRoute('GET', '/items/:sku', { responses: { 200: Type.Object({ sku: Type.String() }) } });

export function routeTypes(
  ctx: HttpContext<'/items/:sku'>,
  typed: HttpContext<'/orders', typeof order>,
): void {
  expectType<Equal<typeof ctx.params.sku, string>>();
  // @ts-expect-error a typo of a path parameter
  void ctx.params.skuu;
  expectType<Equal<typeof typed.request.body.qty, number>>();
  expectType<Equal<typeof typed.query.verbose, boolean | undefined>>();
  // @ts-expect-error not a property of the body's schema
  void typed.request.body.quantity;
}

export class Routes {
  @http('POST', '/orders', order)
  create(ctx: HttpContext<'/orders', typeof order>) {
    return reply(201, { id: ctx.request.body.qty });
  }

  @http(item)
  one(ctx: RouteContext<typeof item>) {
    return { sku: ctx.params.sku };
  }

  // @ts-expect-error the 201's body has no `name`
  @http('POST', '/orders', order)
  wrong() {
    return reply(201, { name: 'x' });
  }
}

const Job = Type.Object({ id: Type.Integer(), sku: Type.String() });

export class MessageHandlers {
  @pull('jobs', { schema: Job })
  job(job: { id: number; sku: string }, meta: MessageMeta): void {
    expectType<Equal<typeof job.id, number>>();
    void meta;
  }

  // @ts-expect-error the schema's id is a number
  @subscribe('jobs.*', { schema: Job })
  heard(job: { id: string }): void {
    void job;
  }

  // @ts-expect-error the reply's schema wants a total
  @respond('quote', { schema: Job, reply: Type.Object({ total: Type.Number() }) })
  quote() {
    return { sum: 1 };
  }
}

export async function messageSends(amqp: AmqpResource): Promise<void> {
  await amqp.publish('jobs.created', { id: 1, sku: 'a' }, { schema: Job });
  // @ts-expect-error not the schema's message: sku is missing
  await amqp.push('jobs', { id: 1 }, { schema: Job });
  // @ts-expect-error not the schema's message: id is a number
  await amqp.request('quote', { id: 'one', sku: 'a' }, { schema: Job });
}
