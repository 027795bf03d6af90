/**
 * Typed, validated configuration from an INI file (Lars style: `[section]`
 * then `key = value`), the environment (`LARS_<SECTION>_<KEY>`) and explicit
 * overrides (command-line flags), with precedence flags > env > file >
 * defaults. Each component defines its own section next to its code with
 * defineSection() and the program lists the sections it needs in loadConfig().
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseIni } from 'ini';
import type { Endpoint } from './endpoint.js';
import { createLogger, type Logger } from './log.js';

const INVALID: unique symbol = Symbol('invalid');
type Invalid = typeof INVALID;

/** A raw value as a source gives it: text from a file or the environment, or a typed flag value. */
export type RawValue = string | number | boolean;

export interface Field<T> {
  /** What a valid value looks like, for error messages: "an integer >= 1". */
  readonly expected: string;
  /** The value when no source sets it; a field without one must be set. */
  readonly default: T | undefined;
  parse(raw: RawValue): T | Invalid;
  /** Whether a typed value (a default) satisfies the field's rules. */
  accepts(value: T): boolean;
}

interface Range {
  min?: number;
  max?: number;
}

function describeRange(noun: string, { min, max }: Range): string {
  if (min !== undefined && max !== undefined) return `${noun} between ${min} and ${max}`;
  if (min !== undefined) return `${noun} >= ${min}`;
  if (max !== undefined) return `${noun} <= ${max}`;
  return noun;
}

function inRange(value: number, { min, max }: Range): boolean {
  return (min === undefined || value >= min) && (max === undefined || value <= max);
}

function numeric(noun: string, pattern: RegExp, isValid: (n: number) => boolean, options: Range & { default?: number }): Field<number> {
  return {
    expected: describeRange(noun, options),
    default: options.default,
    parse(raw) {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && pattern.test(raw.trim()) ? Number(raw) : NaN;
      return this.accepts(value) ? value : INVALID;
    },
    accepts: (value) => isValid(value) && inRange(value, options),
  };
}

export function int(options: Range & { default?: number } = {}): Field<number> {
  return numeric('an integer', /^[+-]?\d+$/, Number.isSafeInteger, options);
}

export function float(options: Range & { default?: number } = {}): Field<number> {
  return numeric('a number', /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i, Number.isFinite, options);
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

export function bool(options: { default?: boolean } = {}): Field<boolean> {
  return {
    expected: 'a boolean (true/false, yes/no, on/off, 1/0)',
    default: options.default,
    parse(raw) {
      if (typeof raw === 'boolean') return raw;
      const text = String(raw).trim().toLowerCase();
      return TRUE.has(text) ? true : FALSE.has(text) ? false : INVALID;
    },
    accepts: (value) => typeof value === 'boolean',
  };
}

export function str(options: { default?: string; nonEmpty?: boolean } = {}): Field<string> {
  return {
    expected: options.nonEmpty ? 'a non-empty string' : 'a string',
    default: options.default,
    parse(raw) {
      const text = String(raw);
      return this.accepts(text) ? text : INVALID;
    },
    accepts: (value) => !options.nonEmpty || value.trim() !== '',
  };
}

export function oneOf<const C extends readonly string[]>(choices: C, options: { default?: C[number] } = {}): Field<C[number]> {
  return {
    expected: `one of ${choices.join(', ')}`,
    default: options.default,
    parse(raw) {
      const text = String(raw).trim();
      return this.accepts(text) ? text : INVALID;
    },
    accepts: (value) => choices.includes(value),
  };
}

/** "host:port" items separated by commas, e.g. a list of dns servers to fail over between. */
export function endpoints(options: { default?: Endpoint[] } = {}): Field<Endpoint[]> {
  return {
    expected: 'a comma-separated list of host:port',
    default: options.default,
    parse(raw) {
      const items = String(raw)
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
      const parsed: Endpoint[] = [];
      for (const item of items) {
        const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(item);
        const port = Number(match?.[2]);
        if (!match || port < 1 || port > 65535) return INVALID;
        parsed.push({ host: match[1]!, port });
      }
      return parsed.length > 0 ? parsed : INVALID;
    },
    accepts: (value) => value.length > 0 && value.every((e) => e.host !== '' && Number.isInteger(e.port) && e.port >= 1 && e.port <= 65535),
  };
}

type Fields = Record<string, Field<unknown>>;
type FieldValue<F> = F extends Field<infer T> ? T : never;
export type SectionValues<F extends Fields> = { readonly [K in keyof F]: FieldValue<F[K]> };

export interface Section<N extends string = string, F extends Fields = Fields> {
  readonly name: N;
  readonly fields: F;
  /** Cross-field checks; returns a problem per violated rule. */
  validate?(values: SectionValues<F>): string[];
}

/** The typed result of loadConfig for a list of sections. */
export type ConfigOf<S extends readonly Section[]> = {
  readonly [X in S[number] as X['name']]: SectionValues<X['fields']>;
};

export function defineSection<N extends string, F extends Fields>(
  name: N,
  fields: F,
  validate?: (values: SectionValues<F>) => string[],
): Section<N, F> {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`config section name must be lower-case [a-z0-9_], got ${JSON.stringify(name)}`);
  for (const [key, field] of Object.entries(fields)) {
    if (field.default !== undefined && !field.accepts(field.default)) {
      throw new Error(`config [${name}] ${key}: default ${JSON.stringify(field.default)} is not ${field.expected}`);
    }
  }
  return { name, fields, validate };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Explicit values per section and key; undefined values are skipped (handy with parsed flags). */
export type ConfigOverrides = Record<string, Record<string, RawValue | undefined>>;

export interface LoadConfigOptions<S extends readonly Section[]> {
  sections: S;
  /** Path of an INI file; a missing or unreadable file is an error. */
  file?: string;
  /** INI text, instead of a file (tests, embedding). */
  text?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  overrides?: ConfigOverrides;
  /** Where warnings (unknown sections) go. */
  logger?: Logger;
}

/** The environment variable of a key: LARS_<SECTION>_<KEY>, upper-case. */
export function envName(section: string, key: string): string {
  return `LARS_${section}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

/** Parses "section.key=value" settings (e.g. repeated --set flags) into overrides. */
export function parseSettings(settings: string[]): ConfigOverrides {
  const overrides: ConfigOverrides = {};
  for (const setting of settings) {
    const match = /^([a-z][a-z0-9_]*)\.([^=\s]+)=(.*)$/.exec(setting.trim());
    if (!match) throw new ConfigError([`config setting ${JSON.stringify(setting)}: expected section.key=value`]);
    (overrides[match[1]!] ??= {})[match[2]!] = match[3]!;
  }
  return overrides;
}

interface Candidate {
  raw: unknown;
  source: string;
}

/**
 * Loads and validates every listed section; throws one ConfigError listing all
 * problems, each naming the section, key and bad value.
 */
export function loadConfig<const S extends readonly Section[]>(options: LoadConfigOptions<S>): ConfigOf<S> {
  const log = options.logger ?? createLogger('config');
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const known = new Map<string, Section>(options.sections.map((s) => [s.name, s]));
  const fileValues = readFileValues(options, problems);
  const fileLabel = options.file !== undefined ? `file ${options.file}` : 'config text';

  for (const [name, values] of Object.entries(fileValues)) {
    const isSection = values !== null && typeof values === 'object' && !Array.isArray(values);
    if (!isSection) {
      log.warn('config_key_outside_section_ignored', { key: name, source: fileLabel });
    } else if (!known.has(name)) {
      log.warn('unknown_config_section_ignored', { section: name, source: fileLabel });
    }
  }
  for (const [section, values] of Object.entries(options.overrides ?? {})) {
    if (!known.has(section)) problems.push(`config [${section}]: unknown section (from overrides)`);
    else checkKeys(known.get(section)!, Object.keys(values), 'overrides', problems);
  }
  checkEnvKeys(options.sections, env, problems);

  const config: Record<string, Record<string, unknown>> = {};
  for (const section of options.sections) {
    const fromFile = asRecord(fileValues[section.name]);
    checkKeys(section, Object.keys(fromFile), fileLabel, problems);
    const values: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(section.fields)) {
      const override = options.overrides?.[section.name]?.[key];
      const candidate: Candidate | undefined =
        override !== undefined
          ? { raw: override, source: 'overrides' }
          : env[envName(section.name, key)] !== undefined
            ? { raw: env[envName(section.name, key)], source: `env ${envName(section.name, key)}` }
            : key in fromFile
              ? { raw: fromFile[key], source: fileLabel }
              : undefined;
      if (candidate === undefined) {
        if (field.default === undefined) problems.push(`config [${section.name}] ${key}: required, not set`);
        values[key] = field.default;
        continue;
      }
      const parsed = isRawValue(candidate.raw) ? field.parse(candidate.raw) : INVALID;
      if (parsed === INVALID) {
        problems.push(`config [${section.name}] ${key}: expected ${field.expected}, got ${JSON.stringify(candidate.raw)} (from ${candidate.source})`);
      }
      values[key] = parsed;
    }
    if (section.validate && !problems.some((p) => p.startsWith(`config [${section.name}]`))) {
      for (const problem of section.validate(values as never)) problems.push(`config [${section.name}]: ${problem}`);
    }
    config[section.name] = Object.freeze(values);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config) as ConfigOf<S>;
}

function readFileValues(options: LoadConfigOptions<readonly Section[]>, problems: string[]): Record<string, unknown> {
  let text = options.text;
  if (options.file !== undefined) {
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      problems.push(`config file ${options.file}: ${(err as Error).message}`);
    }
  }
  return text === undefined ? {} : parseIni(text);
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function isRawValue(value: unknown): value is RawValue {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function checkKeys(section: Section, keys: string[], source: string, problems: string[]): void {
  for (const key of keys) {
    if (!Object.prototype.hasOwnProperty.call(section.fields, key)) {
      problems.push(`config [${section.name}] ${key}: unknown key (from ${source}); known keys: ${Object.keys(section.fields).join(', ')}`);
    }
  }
}

/** A LARS_<SECTION>_* variable of a known section that names no key is a typo. */
function checkEnvKeys(sections: readonly Section[], env: Record<string, string | undefined>, problems: string[]): void {
  const names = new Set(sections.flatMap((s) => Object.keys(s.fields).map((key) => envName(s.name, key))));
  for (const section of sections) {
    const prefix = `${envName(section.name, '')}`;
    for (const name of Object.keys(env)) {
      if (name.startsWith(prefix) && !names.has(name) && env[name] !== undefined) {
        problems.push(`config [${section.name}]: unknown environment variable ${name}; known keys: ${Object.keys(section.fields).join(', ')}`);
      }
    }
  }
}

/** The reactor's own section; key names follow Lars's [reactor] where it has one. */
export const reactorSection = defineSection(
  'reactor',
  {
    /** Connections a TCP server holds at once; more are accepted and closed at once. */
    maxConn: int({ default: 1024, min: 1 }),
    /** Worker pool size (Lars: IO threads). 0 means one per CPU core. */
    threadNum: int({ default: 0, min: 0, max: 256 }),
    /** Largest TCP frame, header included, in bytes. */
    maxFrame: int({ default: 4 * 1024 * 1024, min: 65535, max: 1024 * 1024 * 1024 }),
    /** Seconds without traffic before a server closes a connection; 0 never. */
    idleTimeout: int({ default: 0, min: 0 }),
    /** Unsent bytes per connection past which reading from it pauses. */
    outputHighWater: int({ default: 1024 * 1024, min: 16 * 1024 }),
    /** Frames a client keeps while disconnected. */
    maxQueue: int({ default: 1024, min: 0 }),
    /** Reconnect backoff: ceiling of the first and of every delay, in ms. */
    reconnectInitialMs: int({ default: 100, min: 1 }),
    reconnectMaxMs: int({ default: 5000, min: 1 }),
  },
  (values) =>
    values.reconnectMaxMs < values.reconnectInitialMs
      ? [`reconnectMaxMs (${values.reconnectMaxMs}) must be >= reconnectInitialMs (${values.reconnectInitialMs})`]
      : [],
);

export type ReactorConfig = SectionValues<typeof reactorSection.fields>;

/** TcpServer options from [reactor]. */
export function tcpServerLimits(reactor: ReactorConfig) {
  return {
    maxConnections: reactor.maxConn,
    maxFrame: reactor.maxFrame,
    idleTimeoutMs: reactor.idleTimeout * 1000,
    outputHighWater: reactor.outputHighWater,
  };
}

/** TcpClient options from [reactor]. */
export function tcpClientLimits(reactor: ReactorConfig) {
  return {
    maxFrame: reactor.maxFrame,
    maxQueue: reactor.maxQueue,
    reconnect: { initialMs: reactor.reconnectInitialMs, maxMs: reactor.reconnectMaxMs },
  };
}

/** Worker pool size from [reactor] threadNum. */
export function workerPoolSize(reactor: ReactorConfig): number {
  return reactor.threadNum > 0 ? reactor.threadNum : availableParallelism();
}
