/**
 * Typed, validated configuration from an INI file (Lars style: `[section]`
 * then `key = value`), the environment (`LARS_<SECTION>_<KEY>`) and explicit
 * overrides (command-line flags), with precedence flags > env > file >
 * defaults. Each component defines its own section next to its code with
 * defineSection() and the program lists the sections it needs in loadConfig().
 */
import { readFileSync } from 'node:fs';
import { parse as parseIni } from 'ini';
import { INVALID, int, problemText, readFields, str, type Fields, type FieldValues } from './fields.js';
import { createLogger, type Logger } from './log.js';
import { DEFAULT_KEEPALIVE_MS, DEFAULT_RECONNECT } from './tcp-client.js';
import { DEFAULT_FRAME_DEADLINE_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_PEER, DEFAULT_OUTPUT_HIGH_WATER, DEFAULT_TCP_MAX_FRAME } from './tcp-server.js';

import { parseTokens } from './auth.js';
export { bool, endpoints, float, int, oneOf, str, type Field, type Fields, type FieldValues } from './fields.js';

export interface Section<N extends string = string, F extends Fields = Fields> {
  readonly name: N;
  readonly fields: F;
  /** Cross-field checks; returns a problem per violated rule. */
  validate?(values: FieldValues<F>): string[];
}

/** The typed result of loadConfig for a list of sections. */
export type ConfigOf<S extends readonly Section[]> = {
  readonly [X in S[number] as X['name']]: FieldValues<X['fields']>;
};

/**
 * What code gives a service instead of a config file: per section, the values
 * it sets; the rest keep their defaults.
 * A loaded ConfigOf is one too, so a service takes either.
 */
export type ConfigInput<S extends readonly Section[]> = {
  readonly [X in S[number] as X['name']]?: Partial<FieldValues<X['fields']>>;
};

/** Lower-case words joined by "_": the one spelling of section and key names. */
const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

export function defineSection<N extends string, F extends Fields>(
  name: N,
  fields: F,
  validate?: (values: FieldValues<F>) => string[],
): Section<N, F> {
  if (!SNAKE_CASE.test(name)) throw new Error(`config section name must be snake_case, got ${JSON.stringify(name)}`);
  for (const [key, field] of Object.entries(fields)) {
    if (!SNAKE_CASE.test(key)) throw new Error(`config [${name}] ${JSON.stringify(key)}: key names are snake_case`);
    if (field.default !== undefined && field.read(field.default) === INVALID) {
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

/** Values per section and key, strongest of all sources; undefined values are skipped (handy with parsed flags). */
export type ConfigOverrides = Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;

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
export function parseSettings(settings: string[]): Record<string, Record<string, string>> {
  const overrides: Record<string, Record<string, string>> = {};
  for (const setting of settings) {
    const match = /^([a-z][a-z0-9_]*)\.([^=\s]+)=(.*)$/.exec(setting.trim());
    if (!match) throw new ConfigError([`config setting ${JSON.stringify(setting)}: expected section.key=value`]);
    (overrides[match[1]!] ??= {})[match[2]!] = match[3]!;
  }
  return overrides;
}

/**
 * Loads and validates every listed section; throws one ConfigError listing all
 * problems, each naming the section, key and bad value.
 */
export function loadConfig<const S extends readonly Section[]>(options: LoadConfigOptions<S>): ConfigOf<S> {
  const log = options.logger ?? createLogger('config');
  const env = options.env ?? process.env;
  const problems: string[] = [];
  // Programs list the sections of each service they run; a shared one ([reactor]) is read once.
  const sections = [...new Set(options.sections)];
  const known = new Map<string, Section>(sections.map((s) => [s.name, s]));
  if (known.size < sections.length) throw new Error('config: two different sections have the same name');
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
    if (values === undefined) continue;
    if (!known.has(section)) problems.push(`config [${section}]: unknown section (from overrides)`);
    else checkKeys(known.get(section)!, Object.keys(values), 'overrides', problems);
  }
  checkEnvKeys(sections, env, problems);

  const config: Record<string, unknown> = {};
  for (const section of sections) {
    const fromFile = asRecord(fileValues[section.name]);
    checkKeys(section, Object.keys(fromFile), fileLabel, problems);
    const picked: Record<string, unknown> = {};
    const sources: Record<string, string> = {};
    for (const key of Object.keys(section.fields)) {
      const override = options.overrides?.[section.name]?.[key];
      const fromEnv = env[envName(section.name, key)];
      if (override !== undefined) [picked[key], sources[key]] = [override, 'overrides'];
      else if (fromEnv !== undefined) [picked[key], sources[key]] = [fromEnv, `env ${envName(section.name, key)}`];
      else if (Object.hasOwn(fromFile, key)) [picked[key], sources[key]] = [fromFile[key], fileLabel];
    }
    const read = readFields(section.fields, picked, (key) => sources[key]);
    for (const problem of read.problems) problems.push(`config [${section.name}] ${problem}`);
    // Cross-field rules only make sense once every value is valid.
    if (read.problems.length === 0) for (const problem of section.validate?.(read.values) ?? []) problems.push(`config [${section.name}]: ${problem}`);
    config[section.name] = Object.freeze(read.values);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config) as ConfigOf<S>;
}

/**
 * The configuration code gives (tests, `lars up`, embedding): each section's
 * defaults with `input` replacing some values, checked as a file's would be
 * (throws ConfigError). Only the sections' names are read from `input`, so a
 * service can pass its whole options object.
 */
export function configFrom<const S extends readonly Section[]>(sections: S, input: ConfigInput<S> = {} as ConfigInput<S>): ConfigOf<S> {
  const given = input as Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>;
  return loadConfig({ sections, env: {}, overrides: Object.fromEntries(sections.map((s) => [s.name, given[s.name]])) });
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

function checkKeys(section: Section, keys: string[], source: string, problems: string[]): void {
  for (const key of keys) {
    if (!Object.hasOwn(section.fields, key)) problems.push(`config [${section.name}] ${problemText.unknown(key, section.fields, source)}`);
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

/**
 * The reactor's own section: the TCP limits of the servers (dns, reporter)
 * and the reconnect backoff of the clients (the agent's dns and reporter
 * links). Defaults are TcpServer's and TcpClient's own.
 */
export const reactorSection = defineSection(
  'reactor',
  {
    /** Connections a TCP server holds at once; more are accepted and closed at once (Lars maxConn). */
    max_conn: int({ default: DEFAULT_MAX_CONNECTIONS, min: 1 }),
    /** Largest TCP frame, header included: what servers accept, and what the agent accepts from dns (big routes). */
    max_frame_bytes: int({ default: DEFAULT_TCP_MAX_FRAME, min: 65535, max: 1024 * 1024 * 1024 }),
    /** Connections one peer address may hold on a server; 0: no limit. */
    max_conn_per_peer: int({ default: DEFAULT_MAX_CONNECTIONS_PER_PEER, min: 0 }),
    /** A frame begun and not completed within this closes its connection (slow-loris peers); 0: never. */
    frame_deadline_ms: int({ default: DEFAULT_FRAME_DEADLINE_MS, min: 0 }),
    /**
     * Seconds without traffic either way before a server closes a connection;
     * 0 never. Our clients' keepalives keep healthy links busier than that
     * (docs/reactor.md, "Keepalive").
     */
    idle_timeout_s: int({ default: DEFAULT_IDLE_TIMEOUT_MS / 1000, min: 0 }),
    /** Clients (the agent's links): a KeepaliveRequest after this long with nothing received; 0 none. */
    keepalive_interval_ms: int({ default: DEFAULT_KEEPALIVE_MS, min: 0 }),
    /** Unsent bytes per server connection past which reading from it pauses. */
    output_high_water_bytes: int({ default: DEFAULT_OUTPUT_HIGH_WATER, min: 16 * 1024 }),
    /** Client reconnect backoff (full jitter): ceiling of the first and of every delay. */
    reconnect_initial_ms: int({ default: DEFAULT_RECONNECT.initialMs, min: 1 }),
    reconnect_max_ms: int({ default: DEFAULT_RECONNECT.maxMs, min: 1 }),
    /**
     * Servers: the tokens a client must present first (comma-separated, so an
     * old and a new one can be accepted while rolling); empty: no
     * authentication, as Lars (docs/reactor.md, "Authentication").
     */
    auth_tokens: str({ default: '' }),
    /** Servers with auth_tokens: how long a connection may take to send its token. */
    auth_timeout_ms: int({ default: 5000, min: 10 }),
    /** Clients (the agent's links): the token sent first on every connection; empty: none. */
    auth_token: str({ default: '' }),
  },
  (values) => {
    const problems: string[] = [];
    if (values.reconnect_max_ms < values.reconnect_initial_ms) {
      problems.push(`reconnect_max_ms (${values.reconnect_max_ms}) must be >= reconnect_initial_ms (${values.reconnect_initial_ms})`);
    }
    // One file configures both ends in `lars up`: a timeout inside two intervals would cut healthy idle links.
    const { idle_timeout_s: idle, keepalive_interval_ms: keepalive } = values;
    if (idle > 0 && keepalive > 0 && idle * 1000 < 2 * keepalive) {
      problems.push(`idle_timeout_s (${idle}) must be at least twice keepalive_interval_ms (${keepalive}), or idle links of healthy clients are cut`);
    }
    return problems;
  },
);

export type ReactorConfig = FieldValues<typeof reactorSection.fields>;

/** TcpServer options from [reactor]. */
export function tcpServerLimits(reactor: ReactorConfig) {
  return {
    maxConnections: reactor.max_conn,
    maxConnectionsPerPeer: reactor.max_conn_per_peer,
    frameDeadlineMs: reactor.frame_deadline_ms,
    maxFrame: reactor.max_frame_bytes,
    idleTimeoutMs: reactor.idle_timeout_s * 1000,
    outputHighWater: reactor.output_high_water_bytes,
    authTokens: parseTokens(reactor.auth_tokens),
    authTimeoutMs: reactor.auth_timeout_ms,
  };
}

/** TcpClient options from [reactor]. */
export function tcpClientLimits(reactor: ReactorConfig) {
  return {
    maxFrame: reactor.max_frame_bytes,
    reconnect: { initialMs: reactor.reconnect_initial_ms, maxMs: reactor.reconnect_max_ms },
    keepaliveMs: reactor.keepalive_interval_ms,
    ...(reactor.auth_token ? { authToken: reactor.auth_token } : {}),
  };
}
