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
  const typescript = TS_EXTENSIONS.has(path.extname(absolute));
  if (typescript) registerTypeScript(file, cwd);
  try {
    try {
      // A service file is CommonJS (or compiled to it by the loader), like the rest of Keel.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(absolute) as Record<string, unknown>;
    } catch (error) {
      if (!typescript || !isImportCycleTdz(error) || !compileAsTsc(cwd)) throw error;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(absolute) as Record<string, unknown>;
    }
  } catch (error) {
    // Kept with its stack: the mistake is in the user's code, and the stack says where.
    throw new CliError('CLI_LOAD_FAILED', `cannot load ${file}: ${(error as Error).stack ?? String(error)}`, {
      cause: error,
    });
  }
}

/**
 * swc's CommonJS exports a class through a getter of its `class` binding, and emitted decorator
 * metadata reads an imported class as the class is defined: in an import cycle that read comes
 * before the other module's class exists, and the getter throws (tsc's `exports.X` is undefined
 * there, and Keel's graph then reports the cycle, or the `LazyServiceIdentifier` resolves it).
 */
function isImportCycleTdz(error: unknown): boolean {
  return error instanceof ReferenceError && /^Cannot access '.+' before initialization$/.test(error.message);
}

/**
 * Loads the project's TypeScript files again as `tsc` compiles them (`transpileModule`, with the
 * project's tsconfig, into CommonJS), so the dev loop sees what the build does. False when the
 * project has no `typescript`.
 */
function compileAsTsc(cwd: string): boolean {
  let ts: typeof import('typescript');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ts = require(
      createRequire(path.join(cwd, 'package.json')).resolve('typescript'),
    ) as typeof import('typescript');
  } catch {
    return false;
  }
  const configFile = ts.findConfigFile(cwd, ts.sys.fileExists);
  const options: import('typescript').CompilerOptions =
    configFile === undefined
      ? { experimentalDecorators: true, emitDecoratorMetadata: true }
      : ts.parseJsonConfigFileContent(
          ts.readConfigFile(configFile, ts.sys.readFile).config,
          ts.sys,
          path.dirname(configFile),
        ).options;
  const compilerOptions = {
    ...options,
    module: ts.ModuleKind.CommonJS,
    sourceMap: false,
    inlineSourceMap: true,
    noEmit: false,
  };
  // Keel's own modules stay as they are: one copy of its classes (its sources, in this repository).
  const keel = path.resolve(__dirname, '..') + path.sep;
  const inProject = (filename: string) =>
    !filename.includes(`${path.sep}node_modules${path.sep}`) && !filename.startsWith(keel);
  for (const cached of Object.keys(require.cache)) {
    if (TS_EXTENSIONS.has(path.extname(cached)) && inProject(cached)) delete require.cache[cached];
  }
  const extensions = (
    module.constructor as unknown as {
      _extensions: Record<string, (m: NodeModule, filename: string) => void>;
    }
  )._extensions;
  for (const extension of TS_EXTENSIONS) {
    const previous = extensions[extension];
    extensions[extension] = (loaded, filename) => {
      if (!inProject(filename) && previous !== undefined) return previous(loaded, filename);
      const source = ts.sys.readFile(filename) ?? '';
      const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
      (loaded as NodeModule & { _compile(code: string, filename: string): void })._compile(
        outputText,
        filename,
      );
    };
  }
  return true;
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
