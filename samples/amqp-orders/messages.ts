import { Type, type Static } from '@sinclair/typebox';

/** The contracts of the three processes: JSON Schema (TypeBox), validated and documented by Keel. */
export const NewOrder = Type.Object(
  { sku: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1, maximum: 1000 }) },
  { $id: 'NewOrder' },
);

export const Order = Type.Object(
  { id: Type.Integer(), sku: Type.String(), quantity: Type.Integer(), total: Type.Number() },
  { $id: 'Order' },
);

export const QuoteRequest = Type.Object({ sku: Type.String(), quantity: Type.Integer({ minimum: 1 }) });

export const Quote = Type.Object({ sku: Type.String(), unit_price: Type.Number(), total: Type.Number() });

export const InvoiceJob = Type.Object({ kind: Type.Literal('invoice'), order: Order });

export const ErrorBody = Type.Object({ error: Type.String() });

export type Order = Static<typeof Order>;
export type Quote = Static<typeof Quote>;
export type InvoiceJob = Static<typeof InvoiceJob>;
