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
    synopsis: '<file.yml|file.json> [--prune] [--service <module>]... [--dry-run] [--in-parts]',
    summary: 'write the changed leaves under KEEL_ETCD_PREFIX, and KEEL_ETCD_CHECK_KEY, in one transaction',
    details: [
      '  --prune             delete the keys under the prefix that the file no longer holds',
      '  --service <module>  validate the resulting tree against the schemas of the @microservice the module exports',
      '                      (.ts through @swc-node/register, as keel run); repeat it for each service that reads the',
      '                      tree; nothing is written when one of them finds it invalid',
      '  --dry-run           print what would change and write nothing',
      "  --in-parts          write in transactions of 128 operations (etcd's default --max-txn-ops) when the push is",
      '                      larger than etcd takes at once: not atomic, services may see part of it',
      '',
      'Every change goes in one transaction, applied only if no key under the prefix changed since it was read:',
      'services see all of the push or none of it. A file key that is empty or holds "/" is refused before anything',
      'is written.',
      '',
      ETCD_ENV,
    ].join('\n'),
    run: (args, io) => settings().settingsPush(args, io),
  },
  {
    words: ['settings', 'get'],
    synopsis: '[path] [--service <module>]...',
    summary: 'print the settings stored in etcd (secrets redacted)',
    details: [
      '  --service <module>  also redact what the schemas of the @microservice the module exports mark sensitive',
      '                      (repeatable)',
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
