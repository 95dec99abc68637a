const NUMERIC = /^[-+]?\d[\d.]*(x|%)?$/;

/** A GitHub markdown table; columns that hold only figures are right-aligned. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const alignRight = headers.map(
    (_, column) => rows.length > 0 && rows.every((row) => NUMERIC.test(row[column])),
  );
  const widths = headers.map((header, column) =>
    Math.max(header.length, 3, ...rows.map((row) => row[column].length)),
  );
  const pad = (cell: string, column: number) =>
    alignRight[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column]);
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = widths.map((width, column) =>
    alignRight[column] ? `${'-'.repeat(width - 1)}:` : '-'.repeat(width),
  );
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function fixed(value: number, decimals: number): string {
  return value.toFixed(decimals);
}

export function times(ratio: number): string {
  return `${ratio.toFixed(2)}x`;
}

export function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

/** A difference with its sign, two decimals: `+1.25`, `-0.40`. */
export function signed(value: number): string {
  return `${value < 0 ? '-' : '+'}${fixed(Math.abs(value), 2)}`;
}
