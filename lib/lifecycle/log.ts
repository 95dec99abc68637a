/**
 * The logging surface the lifecycle needs; a bunyan Logger satisfies it. Until settings configure
 * logging, records go to stderr as plain lines.
 */
export interface Log {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(fields: object): Log;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
type Level = keyof typeof LEVELS;

export function stderrLog(prefix: string, minimum: Level = 'info', bound: object = {}): Log {
  const write = (level: Level) => (fields: object, message: string) => {
    if (LEVELS[level] < LEVELS[minimum]) return;
    const context = { ...bound, ...fields } as Record<string, unknown>;
    const error = context.err instanceof Error ? `\n${context.err.stack ?? context.err.message}` : '';
    const source = typeof context.resource === 'string' ? `${prefix}/${context.resource}` : prefix;
    process.stderr.write(
      `[${source}] ${level === 'info' ? '' : `${level.toUpperCase()} `}${message}${error}\n`,
    );
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => stderrLog(prefix, minimum, { ...bound, ...fields }),
  };
}
