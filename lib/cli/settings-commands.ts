import type { Command } from './command';

/** Loaded on use: the etcd client is most of what `keel` would otherwise load for `keel --version`. */
function settings(): typeof import('./settings-command') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./settings-command') as typeof import('./settings-command');
}

const ETCD_ENV =
  'etcd is reached through KEEL_ETCD_HOSTS (and KEEL_ETCD_PREFIX, KEEL_ETCD_CHECK_KEY, KEEL_ETCD_* for TLS and auth).';

/** `keel settings push|get|watch`: entries of the command table; the work is in settings-command.ts. */
export const settingsCommands: readonly Command[] = [
  {
    words: ['settings', 'push'],
    synopsis: '<file.yml|file.json> [--prune] [--service <module>] [--dry-run]',
    summary: 'write the changed leaves under KEEL_ETCD_PREFIX, then KEEL_ETCD_CHECK_KEY',
    details: [
      '  --prune             delete the keys under the prefix that the file no longer holds',
      '  --service <module>  validate the resulting tree against the schemas of the @microservice the module exports;',
      '                      nothing is written when it is invalid',
      '  --dry-run           print what would change and write nothing',
      '',
      ETCD_ENV,
    ].join('\n'),
    run: (args, io) => settings().settingsPush(args, io),
  },
  {
    words: ['settings', 'get'],
    synopsis: '[path] [--service <module>]',
    summary: 'print the settings stored in etcd (secrets redacted)',
    details: [
      '  --service <module>  also redact what the schemas of the @microservice the module exports mark sensitive',
      '',
      ETCD_ENV,
    ].join('\n'),
    run: (args, io) => settings().settingsGet(args, io),
  },
  {
    words: ['settings', 'watch'],
    synopsis: '[path]',
    summary: 'print each change as it happens, until interrupted',
    details: ETCD_ENV,
    run: (args, io) => settings().settingsWatch(args, io),
  },
];
