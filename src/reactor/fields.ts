/**
 * Typed rules for configuration values: what a key accepts, its default, and
 * the one wording of a problem. Pure (no I/O): the config loader
 * (reactor/config.ts) reads its sections with these rules and the balancer
 * checks its parameters with the same ones (balancer/params.ts), so a value is
 * judged one way whether it comes from a file, the environment, a flag or code.
 */
import { EndpointError, parseEndpointList, type Endpoint } from './endpoint.js';

export const INVALID: unique symbol = Symbol('invalid');
export type Invalid = typeof INVALID;

export interface Field<T> {
  /** What a valid value looks like, for problem lines: "an integer >= 1". */
  readonly expected: string;
  /** The value when nothing sets it; a field without one must be set. */
  readonly default: T | undefined;
  /** A value as text (file, environment, flag) or already typed (code, a default); INVALID when it breaks the rule. */
  read(raw: unknown): T | Invalid;
}

export type Fields = Record<string, Field<unknown>>;
export type FieldValues<F extends Fields> = { readonly [K in keyof F]: F[K] extends Field<infer T> ? T : never };

interface NumberRange {
  min?: number;
  max?: number;
  /** The value must be greater than min, not equal to it. */
  minExclusive?: boolean;
}

function describeRange(noun: string, { min, max, minExclusive }: NumberRange): string {
  if (min !== undefined && max !== undefined && !minExclusive) return `${noun} between ${min} and ${max}`;
  const lower = min === undefined ? [] : [`${minExclusive ? '>' : '>='} ${min}`];
  const upper = max === undefined ? [] : [`<= ${max}`];
  return [noun, [...lower, ...upper].join(' and ')].filter(Boolean).join(' ');
}

function numeric(noun: string, pattern: RegExp, isValid: (n: number) => boolean, range: NumberRange & { default?: number }): Field<number> {
  const { min, max, minExclusive } = range;
  const inRange = (value: number) => (min === undefined || (minExclusive ? value > min : value >= min)) && (max === undefined || value <= max);
  return {
    expected: describeRange(noun, range),
    default: range.default,
    read(raw) {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && pattern.test(raw.trim()) ? Number(raw) : NaN;
      return isValid(value) && inRange(value) ? value : INVALID;
    },
  };
}

export function int(options: NumberRange & { default?: number } = {}): Field<number> {
  return numeric('an integer', /^[+-]?\d+$/, Number.isSafeInteger, options);
}

export function float(options: NumberRange & { default?: number } = {}): Field<number> {
  return numeric('a number', /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i, Number.isFinite, options);
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

export function bool(options: { default?: boolean } = {}): Field<boolean> {
  return {
    expected: 'a boolean (true/false, yes/no, on/off, 1/0)',
    default: options.default,
    read(raw) {
      if (typeof raw === 'boolean') return raw;
      const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim().toLowerCase() : '';
      return TRUE.has(text) ? true : FALSE.has(text) ? false : INVALID;
    },
  };
}

/** Text as written; an INI value that looks like a boolean or number still counts as its text. */
export function str(options: { default?: string; nonEmpty?: boolean } = {}): Field<string> {
  return {
    expected: options.nonEmpty ? 'a non-empty string' : 'a string',
    default: options.default,
    read(raw) {
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return INVALID;
      const text = String(raw);
      return options.nonEmpty && text.trim() === '' ? INVALID : text;
    },
  };
}

export function oneOf<const C extends readonly string[]>(choices: C, options: { default?: C[number] } = {}): Field<C[number]> {
  return {
    expected: `one of ${choices.join(', ')}`,
    default: options.default,
    read(raw) {
      const text = typeof raw === 'string' ? raw.trim() : undefined;
      return choices.find((choice) => choice === text) ?? INVALID;
    },
  };
}

const isServerEndpoint = (e: Endpoint) => e.host !== '' && Number.isInteger(e.port) && e.port >= 1 && e.port <= 65535;

/** "host:port" items separated by commas, e.g. a list of dns servers to fail over between. */
export function endpoints(options: { default?: Endpoint[] } = {}): Field<Endpoint[]> {
  return {
    expected: 'a comma-separated list of host:port',
    default: options.default,
    read(raw) {
      let list: Endpoint[];
      if (typeof raw === 'string') {
        try {
          list = parseEndpointList(raw);
        } catch (err) {
          if (err instanceof EndpointError) return INVALID;
          throw err;
        }
      } else if (Array.isArray(raw) && raw.every((e) => typeof e?.host === 'string' && typeof e?.port === 'number')) {
        list = raw.map((e: Endpoint) => ({ host: e.host, port: e.port }));
      } else {
        return INVALID;
      }
      return list.length > 0 && list.every(isServerEndpoint) ? list : INVALID;
    },
  };
}

/** Strings quoted (so an empty one shows), lists as JSON, everything else as JS prints it (Infinity, true). */
function show(raw: unknown): string {
  return typeof raw === 'string' || Array.isArray(raw) ? JSON.stringify(raw) : String(raw);
}

const from = (source: string | undefined) => (source === undefined ? '' : ` (from ${source})`);

/** The problem lines, one wording for every caller; the caller puts the section in front. */
export const problemText = {
  invalid: (key: string, field: Field<unknown>, raw: unknown, source?: string) => `${key}: expected ${field.expected}, got ${show(raw)}${from(source)}`,
  unknown: (key: string, fields: Fields, source?: string) => `${key}: unknown key${from(source)}; known keys: ${Object.keys(fields).join(', ')}`,
  required: (key: string) => `${key}: required, not set`,
};

/**
 * Every field's value: from `input` where it has one (undefined counts as
 * none), else the default. Keys of `input` that name no field are problems
 * too, since a misspelt key would otherwise silently keep its default.
 * `sourceOf` names where a key's value came from, for the problem line.
 */
export function readFields<F extends Fields>(
  fields: F,
  input: Readonly<Record<string, unknown>>,
  sourceOf: (key: string) => string | undefined = () => undefined,
): { values: FieldValues<F>; problems: string[] } {
  const problems = Object.keys(input)
    .filter((key) => !Object.hasOwn(fields, key))
    .map((key) => problemText.unknown(key, fields, sourceOf(key)));
  const values: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    const raw = Object.hasOwn(input, key) ? input[key] : undefined;
    if (raw === undefined) {
      if (field.default === undefined) problems.push(problemText.required(key));
      values[key] = field.default;
      continue;
    }
    const value = field.read(raw);
    if (value === INVALID) problems.push(problemText.invalid(key, field, raw, sourceOf(key)));
    values[key] = value;
  }
  return { values: values as FieldValues<F>, problems };
}
