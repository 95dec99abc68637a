import { GraphError } from '../container/errors';
import { SettingsError } from '../settings/errors';
import { usageOf, type Command } from './command';
import { graphCommand } from './graph-command';
import { CliError, UsageError, type CliIo } from './io';
import { newCommand } from './new-command';
import { openApiCommand } from './openapi-command';
import { asyncApiCommand } from './asyncapi-command';
import { keelPackage } from './package-info';
import { runCommand } from './run-command';
import { registryCommands } from './registry-commands';
import { settingsCommands } from './settings-commands';
import { statusCommand } from './status-command';

/** Every command, in the order `keel help` lists them: one more command is one more entry. */
export const COMMANDS: readonly Command[] = [
  newCommand,
  runCommand,
  graphCommand,
  openApiCommand,
  asyncApiCommand,
  statusCommand,
  ...settingsCommands,
  ...registryCommands,
];

function usage(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((command) => usageOf(command).length));
  const lines = commands.map((command) => `  ${usageOf(command).padEnd(width)}   ${command.summary}`);
  return `Usage:\n${lines.join('\n')}\n  keel --version\n  keel help [command]\n\n'keel <command> --help' tells more about one command.\n`;
}

function commandHelp(command: Command): string {
  return `Usage: ${usageOf(command)}\n\n${command.summary}\n${command.details ? `\n${command.details.trimEnd()}\n` : ''}`;
}

/** The command whose words start `args`, longest first (so `settings push` wins over a group). */
function findCommand(args: readonly string[]): Command | undefined {
  return COMMANDS.find((command) => command.words.every((word, index) => args[index] === word));
}

/** Commands whose first words are `args`: `keel settings` lists the settings commands. */
function commandGroup(args: readonly string[]): Command[] {
  const words = args.filter((arg) => !arg.startsWith('-'));
  if (words.length === 0) return [];
  return COMMANDS.filter((command) => words.every((word, index) => command.words[index] === word));
}

const isHelpFlag = (arg: string) => arg === '--help' || arg === '-h';

/** Runs one `keel` command line; resolves with the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [first] = args;
  if (first === undefined || isHelpFlag(first)) {
    io.out.write(usage());
    return 0;
  }
  if (first === '--version' || first === '-v') {
    io.out.write(`${keelPackage().version}\n`);
    return 0;
  }
  if (first === 'help') return help(args.slice(1), io);
  const command = findCommand(args);
  if (command === undefined) {
    const group = commandGroup(args);
    if (group.length > 0 && args.some(isHelpFlag)) {
      io.out.write(usage(group));
      return 0;
    }
    const shown = group.length > 0 ? usage(group) : usage();
    io.err.write(`keel: unknown command: ${args.join(' ')}\n\n${shown}`);
    return 2;
  }
  const rest = args.slice(command.words.length);
  if (rest.some(isHelpFlag)) {
    io.out.write(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(`keel: ${error.message}\n\n${commandHelp(command)}`);
      return 2;
    }
    if (error instanceof SettingsError || error instanceof GraphError || error instanceof CliError) {
      io.err.write(`keel: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function help(args: readonly string[], io: CliIo): number {
  if (args.length === 0) {
    io.out.write(usage());
    return 0;
  }
  const command = findCommand(args);
  if (command !== undefined) {
    io.out.write(commandHelp(command));
    return 0;
  }
  const group = commandGroup(args);
  if (group.length > 0) {
    io.out.write(usage(group));
    return 0;
  }
  io.err.write(`keel: no command ${args.join(' ')}\n\n${usage()}`);
  return 2;
}
