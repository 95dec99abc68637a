import { parseArgs as parseNodeArgs, type ParseArgsConfig } from 'node:util';

type ParsedCommand<O extends CommandOptions> = ReturnType<
  typeof parseNodeArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;
import { UsageError, type CliIo } from './io';

/** One `keel` command: its words (`settings push`), what `keel help` shows, and what it runs. */
export interface Command {
  /** The words that select it: `['new']`, `['settings', 'push']`. */
  readonly words: readonly string[];
  /** Arguments and options after the words, as shown in the usage. */
  readonly synopsis: string;
  /** One line for `keel help`. */
  readonly summary: string;
  /** What `keel <command> --help` adds below the usage: options, defaults, examples. */
  readonly details?: string;
  /** Resolves with the exit code; throws `UsageError` for a wrong call. */
  run(args: string[], io: CliIo): Promise<number>;
}

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * `util.parseArgs` in strict mode, its errors turned into `UsageError`s (exit 2 with the usage).
 * `--help` is handled before a command runs, so no command declares it.
 */
export function parseCommandArgs<const O extends CommandOptions>(
  args: string[],
  options: O,
): ParsedCommand<O> {
  try {
    return parseNodeArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

export function usageOf(command: Command): string {
  return `keel ${[...command.words, command.synopsis].filter(Boolean).join(' ')}`;
}
