import { existsSync, readFileSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import type * as Yaml from 'yaml';
import { SettingsError } from './errors';
import { layer, unsafeKeyError, type SettingsLayer } from './layers';
import { isPlainObject, unsafeKeyIn, type SettingsTree } from './tree';

/**
 * `KEEL_CONFIG_FILE` (YAML or JSON, by extension), otherwise `config/<NODE_ENV or development>.yml`
 * or `.yaml`, whichever exists (both at once is ambiguous: an error). Undefined when there is no
 * file to read. `info` is told which file was read, or where none was found.
 */
export function readFileLayer(
  env: NodeJS.ProcessEnv,
  cwd: string,
  info: (message: string) => void = () => undefined,
): SettingsLayer | undefined {
  const explicit = env.KEEL_CONFIG_FILE;
  let file: string;
  if (explicit) {
    file = resolve(cwd, explicit);
  } else {
    const base = `config/${env.NODE_ENV || 'development'}`;
    const found = ['.yml', '.yaml']
      .map((extension) => base + extension)
      .filter((name) => existsSync(resolve(cwd, name)));
    if (found.length > 1)
      throw new SettingsError(
        'SETTINGS_FILE',
        `Ambiguous settings files: both ${found.join(' and ')} exist in ${cwd}; keep one, or name it in KEEL_CONFIG_FILE`,
      );
    if (found.length === 0) {
      info(
        `No settings file: neither ${base}.yml nor ${base}.yaml exists in ${cwd} (KEEL_CONFIG_FILE unset)`,
      );
      return undefined;
    }
    file = resolve(cwd, found[0]);
  }
  const shown = isAbsolute(explicit ?? '') ? file : relative(cwd, file);
  const tree = parseSettingsFile(file, shown);
  info(`Settings file ${shown} loaded${explicit ? ' (KEEL_CONFIG_FILE)' : ''}`);
  return layer('file', tree, (path) => `file ${shown} (${path.join('.')})`);
}

export function parseSettingsFile(file: string, shown = file): SettingsTree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingsError(
      'SETTINGS_FILE',
      `Cannot read settings file ${shown}: ${(error as Error).message}`,
    );
  }
  const parsed = parseText(text, extname(file).toLowerCase(), shown);
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) {
    throw new SettingsError('SETTINGS_FILE', `Settings file ${shown} must hold a mapping at the top level`);
  }
  const unsafe = unsafeKeyIn(parsed);
  if (unsafe) throw unsafeKeyError(unsafe, `file ${shown}`);
  return parsed;
}

/** Loaded on first use: its 72 modules take about 35 ms to load, and most services read no YAML file. */
export function loadYaml(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml') as typeof Yaml;
}

function parseText(text: string, extension: string, shown: string): unknown {
  if (extension === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      const detail = (error as Error).message.split('\n')[0];
      throw syntaxError(shown, jsonErrorLocation(text, detail), detail);
    }
  }
  if (extension === '.yaml' || extension === '.yml') {
    const { parse, YAMLParseError } = loadYaml();
    try {
      return parse(text);
    } catch (error) {
      if (!(error instanceof YAMLParseError)) throw error;
      const start = error.linePos?.[0];
      const where = start ? `line ${start.line}, column ${start.col}` : '';
      throw syntaxError(shown, where, error.message.split('\n')[0]);
    }
  }
  throw new SettingsError('SETTINGS_FILE', `Settings file ${shown} must end in .yaml, .yml or .json`);
}

/** V8 gives an offset for most JSON errors but not all; the YAML parser in JSON mode locates the rest. */
function jsonErrorLocation(text: string, message: string): string {
  const position = /position (\d+)/.exec(message);
  if (position) return lineAndColumn(text, Number(position[1]));
  const { parse, YAMLParseError } = loadYaml();
  try {
    parse(text, { schema: 'json' });
  } catch (error) {
    const start = error instanceof YAMLParseError ? error.linePos?.[0] : undefined;
    if (start) return `line ${start.line}, column ${start.col}`;
  }
  return '';
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

function syntaxError(shown: string, where: string, detail: string): SettingsError {
  const at = where === '' ? '' : ` at ${where}`;
  return new SettingsError('SETTINGS_FILE', `Syntax error in settings file ${shown}${at}: ${detail}`);
}
