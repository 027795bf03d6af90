/**
 * One line per event on stderr: time, level, component, event, then key=value
 * fields (logfmt), so both people and grep can read it.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function thresholdFromEnv(): number {
  const level = (process.env.LARS_LOG_LEVEL ?? 'info').toLowerCase();
  return level in rank ? rank[level as LogLevel] : rank.info;
}

let threshold = thresholdFromEnv();
let sink: (line: string) => void = (line) => process.stderr.write(line + '\n');

/** For tests and embedding: change the level or where lines go. */
export function configureLogging(options: { level?: LogLevel; sink?: (line: string) => void }): void {
  if (options.level) threshold = rank[options.level];
  if (options.sink) sink = options.sink;
}

function formatValue(value: unknown): string {
  if (value instanceof Error) value = value.message;
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

export function formatLine(level: LogLevel, component: string, event: string, fields?: LogFields): string {
  let line = `${new Date().toISOString()} ${level} ${component} ${event}`;
  if (fields) {
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) line += ` ${key}=${formatValue(value)}`;
    }
  }
  return line;
}

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(component: string): Logger;
}

export function createLogger(component: string): Logger {
  const emit = (level: LogLevel) => (event: string, fields?: LogFields) => {
    if (rank[level] >= threshold) sink(formatLine(level, component, event, fields));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (name) => createLogger(`${component}.${name}`),
  };
}

/**
 * Logs at most once per interval and counts what it held back, so a flood of
 * one kind of event (garbage datagrams, dropped batches) cannot flood the log.
 */
export function rateLimited(log: Logger, intervalMs: number, now: () => number = Date.now) {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (level: Exclude<LogLevel, 'debug'>, event: string, fields?: LogFields): void => {
    const t = now();
    const entry = last.get(event);
    if (entry && t - entry.at < intervalMs) {
      entry.suppressed += 1;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    last.set(event, { at: t, suppressed: 0 });
    log[level](event, suppressed > 0 ? { ...fields, suppressed } : fields);
  };
}
