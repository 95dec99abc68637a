/** What a command may touch, passed in so the commands stay independent of the process. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  readonly code = 'CLI_USAGE';
}

export interface ParsedArgs {
  positional: string[];
  flags: Set<string>;
}

export function parseArgs(args: readonly string[], knownFlags: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Set<string>();
  for (const arg of args) {
    if (!arg.startsWith('--')) positional.push(arg);
    else if (knownFlags.includes(arg)) flags.add(arg);
    else throw new UsageError(`unknown option ${arg}`);
  }
  return { positional, flags };
}
