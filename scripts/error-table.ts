import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../lib/errors/codes';

export const TABLE_START =
  '<!-- error-codes: generated from lib/errors/codes.ts by `node -r esbuild-register scripts/error-table.ts` -->';
export const TABLE_END = '<!-- /error-codes -->';

/** The README's error table, one row per code, in the table's order. */
export function renderErrorTable(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, info]) =>
      `| \`${code}\` | ${info.raisedBy.map((name) => `\`${name}\``).join(', ')} | ${info.meaning} | ${info.action} |`,
  );
  return [
    TABLE_START,
    '| code | raised by | meaning | what to do |',
    '| --- | --- | --- | --- |',
    ...rows,
    TABLE_END,
  ].join('\n');
}

/** The README's text between the markers, markers included; undefined when they are missing. */
export function readmeErrorTable(readme: string): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start, end + TABLE_END.length);
}

if (require.main === module) {
  const path = join(__dirname, '..', 'README.md');
  const readme = readFileSync(path, 'utf8');
  const current = readmeErrorTable(readme);
  if (current === undefined) throw new Error(`README.md has no ${TABLE_START} ... ${TABLE_END} section`);
  writeFileSync(path, readme.replace(current, renderErrorTable()));
}
