import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommandArgs, type Command } from './command';
import { CliError, UsageError } from './io';
import { isUnsafeSegment } from '../settings/tree';
import { keelPackage, type KeelPackage } from './package-info';
import { projectFiles } from './templates';

/**
 * The name becomes the `@microservice` name, the metric prefix (`<name>_`) and the settings key
 * (`system.microservices.<name>`): Prometheus and the settings paths both allow exactly this.
 */
const SERVICE_NAME = /^[a-z][a-z0-9_]{0,62}$/;

export const newCommand: Command = {
  words: ['new'],
  synopsis: '<dir> [--name <name>] [--keel <version|path|tarball>]',
  summary: 'create a service project that builds, tests and runs',
  details: `  --name <name>   the service name (default: the folder's name, with - as _): lowercase
                  letters, digits and _, starting with a letter
  --keel <spec>   where the project takes Keel from: a version range (default ^<this Keel's
                  version>), a folder, or a tarball made by npm pack

The folder must be empty or absent.`,
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, {
      name: { type: 'string' },
      keel: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('new needs exactly one folder');
    const target = path.resolve(process.cwd(), positionals[0]);
    const name = values.name ?? path.basename(target).toLowerCase().replace(/-/g, '_');
    if (!SERVICE_NAME.test(name) || isUnsafeSegment(name)) {
      const fix = values.name === undefined ? ` (from the folder's name; choose one with --name)` : '';
      throw new CliError(
        'CLI_BAD_NAME',
        isUnsafeSegment(name)
          ? `invalid service name "${name}"${fix}: it names the prototype machinery of every object, and the settings key system.microservices.${name} would be refused`
          : `invalid service name "${name}"${fix}: use lowercase letters, digits and _, starting with a letter (it becomes the metric prefix and the settings key)`,
      );
    }
    if (existsSync(target) && readdirSync(target).length > 0) {
      throw new CliError(
        'CLI_TARGET_NOT_EMPTY',
        `${positionals[0]} is not empty: keel new writes only into an empty or new folder`,
      );
    }
    const keel = keelPackage();
    const keelDependency = values.keel === undefined ? installedSpec(keel) : explicitSpec(values.keel);
    const files = projectFiles({ name, keelName: keel.name, keelDependency: keelDependency.spec });
    for (const [file, content] of Object.entries(files)) {
      const destination = path.join(target, file);
      mkdirSync(path.dirname(destination), { recursive: true });
      writeFileSync(destination, content);
    }
    const shown = path.relative(process.cwd(), target) || '.';
    io.out.write(
      `created ${name} in ${shown} (${keel.name} ${keelDependency.spec})\n` +
        Object.keys(files)
          .sort()
          .map((file) => `  ${file}\n`)
          .join('') +
        `\nnext:\n  cd ${shellWord(shown)}\n  npm install\n  npm test\n  npm run dev\n`,
    );
    if (keelDependency.unresolved)
      io.err.write(
        `keel new: this keel runs from ${keel.root}, not from a package npm installed, so package.json asks for ${keel.name}@${keelDependency.spec} from the registry, which npm resolves only if that version is published there.\n` +
          `  To use this copy: in ${shellWord(keel.root)}, npm pack; then keel new with --keel <the .tgz it wrote>, or in the project: npm install <the .tgz>.\n`,
      );
    return 0;
  },
};

interface DependencySpec {
  spec: string;
  /** Only the registry can resolve it, and nothing says this Keel came from there. */
  unresolved?: boolean;
}

/** A path that exists is a folder or a tarball; anything else is a version range for the registry. */
function explicitSpec(keel: string): DependencySpec {
  const local = path.resolve(process.cwd(), keel);
  return { spec: existsSync(local) ? `file:${local}` : keel };
}

/**
 * What the running Keel was installed from, as npm recorded it in the lockfile of the folder that
 * holds its node_modules (a project, or npx's cache under `npm exec --package <tarball>`): a
 * tarball or folder is asked for again by its absolute path, the registry by `^<version>`. A Keel
 * that npm did not install (a checkout) has no such record.
 */
function installedSpec(keel: KeelPackage): DependencySpec {
  const registry = { spec: `^${keel.version}` };
  const modules = path.dirname(keel.name.startsWith('@') ? path.dirname(keel.root) : keel.root);
  if (path.basename(modules) !== 'node_modules') return { ...registry, unresolved: true };
  const install = path.dirname(modules);
  const key = path.relative(install, keel.root).split(path.sep).join('/');
  for (const lockfile of [
    path.join(modules, '.package-lock.json'),
    path.join(install, 'package-lock.json'),
  ]) {
    let resolved: unknown;
    try {
      const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as {
        packages?: Record<string, { resolved?: unknown }>;
      };
      resolved = lock.packages?.[key]?.resolved;
    } catch {
      continue;
    }
    if (typeof resolved !== 'string') continue;
    if (!resolved.startsWith('file:')) return registry;
    return { spec: `file:${path.resolve(install, resolved.slice('file:'.length))}` };
  }
  return registry;
}

/** `text` as one word a POSIX shell reads back unchanged. */
function shellWord(text: string): string {
  if (/^[\w@%+=:,./-]+$/.test(text)) return text.startsWith('-') ? `./${text}` : text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
