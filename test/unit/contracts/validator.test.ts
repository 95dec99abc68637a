import { Type } from '@sinclair/typebox';
import { ContractError, SchemaCompiler } from '../../../lib';

const exact = { coerce: 'none', unknown: 'reject' } as const;

describe('SchemaCompiler', () => {
  it('compiles a schema with an $id alone and inside others, in any order, on one compiler', () => {
    const compiler = new SchemaCompiler();
    const Order = Type.Object({ id: Type.Integer() }, { $id: 'Order' });
    const job = compiler.compile(Type.Object({ order: Order, again: Type.Ref('Order') }), exact, 'job');
    const order = compiler.compile(Order, exact, 'order');
    expect(order({ id: 1 })).toEqual({ ok: true, value: { id: 1 } });
    expect(job({ order: { id: 'x' }, again: { id: 'y' } })).toEqual({
      ok: false,
      complete: true,
      problems: [
        { pointer: '/order/id', detail: 'must be integer' },
        { pointer: '/again/id', detail: 'must be integer' },
      ],
    });
  });

  it('refuses a schema ajv cannot compile, naming where it is', () => {
    const error = (() => {
      try {
        new SchemaCompiler().compile(
          { type: 'object', properties: { a: { type: 'nonsense' } } },
          exact,
          'POST /x body',
        );
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ContractError);
    expect(error).toMatchObject({ code: 'CONTRACT_INVALID_SCHEMA' });
    expect(String((error as Error).message)).toMatch(/^POST \/x body: the schema is not valid JSON Schema/);
  });
});
