/** The messages the three processes exchange. */
export interface Order {
  id: number;
  sku: string;
  quantity: number;
  total: number;
}

export interface Quote {
  sku: string;
  unit_price: number;
  total: number;
}

export interface InvoiceJob {
  kind: 'invoice';
  order: Order;
}
