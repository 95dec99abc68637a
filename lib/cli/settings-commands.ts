import type { Command } from './command';

/** Loaded on use: the etcd client is most of what `keel` would otherwise load for `keel --version`. */
function settings(): typeof import('./settings-command') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./settings-command') as typeof import('./settings-command');
}

function describe(): typeof import('./settings-describe') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./settings-describe') as typeof import('./settings-describe');
}

const ETCD_ENV =
  'etcd is reached through KEEL_ETCD_HOSTS (and KEEL_ETCD_PREFIX, KEEL_ETCD_CHECK_KEY, KEEL_ETCD_* for TLS and auth).';

/** `keel settings push|get|describe|watch`: entries of the command table; the work is in settings-command.ts and settings-describe.ts. */
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
    words: ['settings', 'describe'],
    synopsis: '[--service <module>]... [--format table|json|markdown] [--json]',
    summary: 'list every setting key the schemas declare: type, default, live or read at start, sensitive',
    details: [
      '  --service <module>  the @microservice the module exports (.ts through @swc-node/register; a main.ts that',
      "                      calls run() is read, not started): Keel's keys and those of each of its resources;",
      "                      repeatable. Without it, the keys every service has (Keel's own and its default resources')",
      '  --format table      one row per key, its doc below (default); markdown: a table; json: the same as data',
      '  --json              --format json',
      '',
      "Read from the schemas, never from a running service or etcd: a sensitive key's default is shown as [redacted].",
      'APPLIES is live when the schema marks the key live: true (a change applies while the service runs), restart',
      'otherwise (read at start).',
    ].join('\n'),
    run: (args, io) => describe().settingsDescribe(args, io),
  },
  {
    words: ['settings', 'watch'],
    synopsis: '[path]',
    summary: 'print each change as it happens, until interrupted',
    details: ETCD_ENV,
    run: (args, io) => settings().settingsWatch(args, io),
  },
];
