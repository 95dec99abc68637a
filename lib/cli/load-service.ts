import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { microserviceOptionsOf } from '../container/decorators';
import type { ResourceClass } from '../container/provider';
import { Microservice } from '../lifecycle/microservice';
import { recordingRun } from '../lifecycle/run';
import { CliError } from './io';

/** The loader `.ts` files go through; the repository and the generated projects use it. */
export const TS_LOADER = '@swc-node/register';
const TS_EXTENSIONS = new Set(['.ts', '.cts', '.mts', '.tsx']);

/**
 * Requires `file` (through the TypeScript loader for `.ts`) and returns the Microservice class it
 * exports: its default export, or its only exported class decorated with @microservice.
 */
export function loadService(file: string, cwd: string): ResourceClass<Microservice> {
  return pickService(file, requireFile(file, cwd));
}

/**
 * `loadService` for the commands that only read a service: a file that calls `run()` (a main.ts)
 * gives the class it runs, and nothing starts.
 */
export function inspectService(file: string, cwd: string): ResourceClass<Microservice> {
  const { loaded, ran } = recordingRun(() => requireFile(file, cwd));
  if (exportedServices(loaded).length === 0 && ran.length === 1) return ran[0];
  return pickService(file, loaded);
}

function requireFile(file: string, cwd: string): Record<string, unknown> {
  const absolute = path.resolve(cwd, file);
  if (!existsSync(absolute)) throw new CliError('CLI_LOAD_FAILED', `${file}: no such file`);
  if (TS_EXTENSIONS.has(path.extname(absolute))) registerTypeScript(file, cwd);
  try {
    // A service file is CommonJS (or compiled to it by the loader), like the rest of Keel.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(absolute) as Record<string, unknown>;
  } catch (error) {
    // Kept with its stack: the mistake is in the user's code, and the stack says where.
    throw new CliError('CLI_LOAD_FAILED', `cannot load ${file}: ${(error as Error).stack ?? String(error)}`, {
      cause: error,
    });
  }
}

const isService = (value: unknown): value is ResourceClass<Microservice> =>
  typeof value === 'function' && microserviceOptionsOf(value) !== undefined;

function exportedServices(exported: Record<string, unknown>): Array<[string, ResourceClass<Microservice>]> {
  return Object.entries(exported).filter((entry): entry is [string, ResourceClass<Microservice>] =>
    isService(entry[1]),
  );
}

function registerTypeScript(file: string, cwd: string): void {
  // The project's own loader first (its version, its tsconfig), then one installed beside Keel.
  for (const from of [path.join(cwd, 'package.json'), __filename]) {
    let resolved: string;
    try {
      resolved = createRequire(from).resolve(TS_LOADER);
    } catch {
      continue;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(resolved);
    return;
  }
  throw new CliError(
    'CLI_LOADER_MISSING',
    `${file} is TypeScript and no TypeScript loader is installed: npm install --save-dev ${TS_LOADER} @swc/core (or run the compiled .js file)`,
  );
}

function pickService(file: string, exported: Record<string, unknown>): ResourceClass<Microservice> {
  if (isService(exported.default)) return exported.default;
  const services = exportedServices(exported);
  if (services.length === 1) return services[0][1];
  if (services.length > 1) {
    const names = services.map(([name]) => name).join(', ');
    throw new CliError(
      'CLI_NO_SERVICE',
      `${file} exports several microservices (${names}): export the one to run as default`,
    );
  }
  const classes = Object.values(exported).filter(
    (value): value is abstract new () => unknown => typeof value === 'function',
  );
  const subclass = classes.find((value) => value.prototype instanceof Microservice);
  const foreign = classes.find((value) => extendsClassNamed(value, 'Microservice'));
  const hint =
    subclass !== undefined
      ? `${subclass.name} extends Microservice but has no @microservice({ name, resources })`
      : foreign !== undefined
        ? `${foreign.name} extends another copy of Keel's Microservice than this keel command's: run the keel installed in the project (npx keel)`
        : 'export the class decorated with @microservice';
  throw new CliError('CLI_NO_SERVICE', `${file} exports no microservice: ${hint}`);
}

function extendsClassNamed(cls: object, name: string): boolean {
  for (
    let proto: unknown = Object.getPrototypeOf(cls);
    typeof proto === 'function';
    proto = Object.getPrototypeOf(proto)
  ) {
    if (proto.name === name) return true;
  }
  return false;
}
