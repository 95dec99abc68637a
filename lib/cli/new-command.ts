import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseCommandArgs, type Command } from './command';
import { CliError, UsageError } from './io';
import { keelPackage } from './package-info';
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
    if (!SERVICE_NAME.test(name)) {
      const fix = values.name === undefined ? ` (from the folder's name; choose one with --name)` : '';
      throw new CliError(
        'CLI_BAD_NAME',
        `invalid service name "${name}"${fix}: use lowercase letters, digits and _, starting with a letter (it becomes the metric prefix and the settings key)`,
      );
    }
    if (existsSync(target) && readdirSync(target).length > 0) {
      throw new CliError(
        'CLI_TARGET_NOT_EMPTY',
        `${positionals[0]} is not empty: keel new writes only into an empty or new folder`,
      );
    }
    const keel = keelPackage();
    const keelDependency = dependencySpec(values.keel, keel.version);
    const files = projectFiles({ name, keelName: keel.name, keelDependency });
    for (const [file, content] of Object.entries(files)) {
      const destination = path.join(target, file);
      mkdirSync(path.dirname(destination), { recursive: true });
      writeFileSync(destination, content);
    }
    const shown = path.relative(process.cwd(), target) || '.';
    io.out.write(
      `created ${name} in ${shown} (${keel.name} ${keelDependency})\n` +
        Object.keys(files)
          .sort()
          .map((file) => `  ${file}\n`)
          .join('') +
        `\nnext:\n  cd ${shown}\n  npm install\n  npm test\n  npm run dev\n`,
    );
    return 0;
  },
};

/** A path that exists is a folder or a tarball; anything else is a version range for the registry. */
function dependencySpec(keel: string | undefined, version: string): string {
  if (keel === undefined) return `^${version}`;
  const local = path.resolve(process.cwd(), keel);
  return existsSync(local) ? `file:${local}` : keel;
}
