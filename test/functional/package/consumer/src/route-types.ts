// Route typing as a user's project sees it: ctx.params from the template, the rest from schemas.
import { Type } from '@sinclair/typebox';
import { defineRoute, http, reply, type HttpContext, type RouteContext } from 'keel';

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
