import { Type, type Static } from '@sinclair/typebox';

/** The record on `orders`: checked by the API before it publishes and by the workers before they invoice. */
export const Order = Type.Object(
  { id: Type.String(), sku: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1 }) },
  { $id: 'Order' },
);

export type Order = Static<typeof Order>;
