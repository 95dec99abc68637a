import { ContractError, type Problem } from './errors';
import type { Schema } from './schema';
import type { SchemaCompiler } from './validator';

/** A decoded message checked against its schema: the value (defaults filled in) or why it is refused. */
export type MessageCheckResult =
  { ok: true; value: unknown } | { ok: false; problems: Problem[]; reason: string };

export type MessageCheck = (value: unknown) => MessageCheckResult;

/**
 * The check of a message schema, for any transport (AMQP consumers and publishers, Kafka): the
 * message as decoded, no coercion, properties the schema does not name kept (a newer producer may
 * add some); a refusal comes with a one-line reason for a dead-letter header or an error.
 */
export function compileMessageCheck(compiler: SchemaCompiler, schema: Schema, where: string): MessageCheck {
  const check = compiler.compile(schema, { coerce: 'none', unknown: 'allow' }, where);
  return (value) => {
    const result = check(value);
    if (result.ok) return result;
    return {
      ok: false,
      problems: result.problems,
      reason: `does not match its schema: ${describeProblems(result.problems)}`,
    };
  };
}

/** `/qty must be integer; / must have required property 'sku'`. */
export function describeProblems(problems: readonly Problem[]): string {
  return problems.map((problem) => `${problem.pointer || '/'} ${problem.detail}`).join('; ');
}

/** Throws CONTRACT_INVALID_MESSAGE naming `what` when `value` fails `check`; returns the checked value. */
export function requireValidMessage(check: MessageCheck, value: unknown, what: string): unknown {
  const result = check(value);
  if (result.ok) return result.value;
  throw new ContractError('CONTRACT_INVALID_MESSAGE', `${what}: the message ${result.reason}`, {
    problems: result.problems,
  });
}
