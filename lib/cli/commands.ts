import { SettingsError } from '../settings/errors';
import { UsageError, type CliIo } from './io';
import { registryList } from './registry-command';
import { settingsGet, settingsPush, settingsWatch } from './settings-command';

const USAGE = `Usage:
  keel settings push <file.yml|file.json> [--prune]   write every leaf under KEEL_ETCD_PREFIX, then KEEL_ETCD_CHECK_KEY
  keel settings get [path]                            print the settings stored in etcd (secrets redacted)
  keel settings watch [path]                          print each change as it happens, until interrupted
  keel registry list [service] [--json]               print the instances registered under KEEL_REGISTRY_PREFIX

etcd is reached through KEEL_ETCD_HOSTS (and KEEL_ETCD_PREFIX, KEEL_ETCD_CHECK_KEY, KEEL_ETCD_* for TLS and auth).
`;

const SETTINGS_COMMANDS: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  push: settingsPush,
  get: settingsGet,
  watch: settingsWatch,
};

/** Runs one `keel` command line; resolves with the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [group, command, ...rest] = args;
  if (group === undefined || group === 'help' || group === '--help') {
    io.out.write(USAGE);
    return 0;
  }
  const run =
    group === 'settings' && command !== undefined
      ? SETTINGS_COMMANDS[command]
      : group === 'registry' && command === 'list'
        ? registryList
        : undefined;
  try {
    if (run === undefined) throw new UsageError(`unknown command: ${args.join(' ')}`);
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(`keel: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof SettingsError) {
      io.err.write(`keel: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
