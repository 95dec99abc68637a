import type { Command } from './command';

/** Loaded on use, like the settings commands: the etcd client is not needed for the rest of `keel`. */
function registry(): typeof import('./registry-command') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./registry-command') as typeof import('./registry-command');
}

/** `keel registry list`: an entry of the command table; the work is in registry-command.ts. */
export const registryCommands: readonly Command[] = [
  {
    words: ['registry', 'list'],
    synopsis: '[service] [--json]',
    summary: 'print the instances registered under KEEL_REGISTRY_PREFIX',
    details:
      '  --json   print the registry entries as JSON\n\n' +
      'etcd is reached through KEEL_ETCD_HOSTS (and KEEL_ETCD_* for TLS and auth); the prefix defaults to keel-registry/.',
    run: (args, io) => registry().registryList(args, io),
  },
];
