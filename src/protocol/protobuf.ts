/**
 * The Protocol Buffers wire format, as much of it as proto/lars.proto uses
 * (docs/protocol.md): varint scalars (int32, uint32, uint64 read as a
 * number, bool), strings, embedded and repeated messages, packed repeated
 * uint32 and map<string, string>. A message is read and written by its
 * MessageSchema (schemas.ts lists them, field for field as lars.proto).
 *
 * Decoding fills every field: a scalar absent from the bytes is its default
 * (0, false, ''), an `optional` scalar or a message field is null, a
 * repeated field [] and a map {}. Unknown fields are skipped, so are known
 * field numbers with another wire type (as protobuf's own parsers do);
 * truncated bytes, an over-long varint or a group are errors.
 *
 * Encoding writes fields in field-number order and leaves out what proto3
 * leaves out: a scalar at its default, an absent (null or undefined)
 * optional or message field, an empty repeated field. An optional scalar set
 * to its default is written: its presence is the point (docs/protocol.md).
 * So our frames are the bytes Lars's C++ protobuf writes.
 */

export type ScalarType = 'int32' | 'uint32' | 'uint64' | 'bool' | 'string';

export interface FieldSchema {
  readonly no: number;
  /** The property of the decoded object (lars.proto's name in camelCase). */
  readonly name: string;
  readonly type: ScalarType | MessageSchema<object> | 'map';
  /** `optional`: explicit presence (null when absent); `repeated`: a list (uint32 lists are packed). */
  readonly label?: 'optional' | 'repeated';
}

/** A message type; `T` is the shape decodeMessage returns and encodeMessage takes. */
export interface MessageSchema<T extends object> {
  readonly name: string;
  readonly fields: readonly FieldSchema[];
  /** How the codec reads and writes it, worked out once when the schema is made. */
  readonly plan: Plan;
  /** Type only: the decoded shape. */
  readonly shape?: T;
}

export function messageSchema<T extends object>(name: string, fields: FieldSchema[]): MessageSchema<T> {
  const sorted = Object.freeze([...fields].sort((a, b) => a.no - b.no));
  return Object.freeze({ name, fields: sorted, plan: planOf(sorted) });
}

/** Bytes that are not a message of the schema; decodeBody turns it into a MalformedBodyError. */
export class ProtobufDecodeError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ProtobufDecodeError';
  }
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;
const TWO_32 = 4294967296;

type Values = Record<string, unknown>;

/**
 * What the codec precomputes per message type, once: each field's tag and
 * kind, a table from field number to field, and a template of the defaults,
 * so reading and writing allocate nothing but the message and its bytes.
 */
export interface Plan {
  readonly fields: readonly FieldPlan[];
  readonly byNumber: readonly (FieldPlan | undefined)[];
  readonly template: Values;
  /** Fields whose default is a fresh object: lists and maps. */
  readonly fresh: readonly FieldPlan[];
}

interface FieldPlan {
  readonly name: string;
  readonly tag: number;
  readonly wireType: number;
  readonly scalar: ScalarType | undefined;
  readonly message: Plan | undefined;
  readonly repeated: boolean;
  readonly map: boolean;
  readonly optional: boolean;
}

function planOf(schemaFields: readonly FieldSchema[]): Plan {
  const fields = schemaFields.map((field): FieldPlan => {
    const { type } = field;
    const scalar = typeof type === 'string' && type !== 'map' ? type : undefined;
    const wireType = scalar !== undefined && scalar !== 'string' ? VARINT : LENGTH_DELIMITED;
    return {
      name: field.name,
      tag: ((field.no << 3) | wireType) >>> 0,
      wireType,
      scalar,
      message: typeof type === 'object' ? type.plan : undefined,
      repeated: field.label === 'repeated',
      map: type === 'map',
      optional: field.label === 'optional',
    };
  });
  const byNumber: (FieldPlan | undefined)[] = [];
  const template: Values = {};
  for (const [index, field] of schemaFields.entries()) {
    const fieldPlan = fields[index]!;
    byNumber[field.no] = fieldPlan;
    template[field.name] = fieldPlan.repeated || fieldPlan.map ? undefined : fieldPlan.optional || fieldPlan.message ? null : defaultOf(fieldPlan.scalar!);
  }
  return { fields, byNumber, template, fresh: fields.filter((f) => f.repeated || f.map) };
}

function defaultOf(type: ScalarType): number | boolean | string {
  return type === 'string' ? '' : type === 'bool' ? false : 0;
}

// ---- decoding ----

class Reader {
  pos = 0;
  /** The last varint read, as two 32-bit halves (no allocation per varint). */
  lo = 0;
  hi = 0;

  constructor(readonly bytes: Uint8Array) {}

  varint(end: number): void {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new ProtobufDecodeError('truncated varint');
      const b = this.bytes[this.pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /** A length-delimited field's end, checked against the enclosing end. */
  delimited(end: number): number {
    this.varint(end);
    if (this.hi !== 0 || this.lo > end - this.pos) throw new ProtobufDecodeError('length beyond the end of the message');
    return this.pos + this.lo;
  }

  skip(wireType: number, end: number): void {
    if (wireType === VARINT) return this.varint(end);
    if (wireType === LENGTH_DELIMITED) {
      this.pos = this.delimited(end);
      return;
    }
    const size = wireType === FIXED64 ? 8 : wireType === FIXED32 ? 4 : -1;
    if (size < 0) throw new ProtobufDecodeError(`unsupported wire type ${wireType}`);
    if (size > end - this.pos) throw new ProtobufDecodeError('truncated field');
    this.pos += size;
  }

  scalar(type: ScalarType, end: number): number | boolean | string {
    if (type === 'string') {
      const stop = this.delimited(end);
      const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.pos, stop - this.pos).toString('utf8');
      this.pos = stop;
      return text;
    }
    this.varint(end);
    if (type === 'int32') return this.lo | 0;
    if (type === 'uint32') return this.lo;
    if (type === 'bool') return this.lo !== 0 || this.hi !== 0;
    return this.hi * TWO_32 + this.lo;
  }
}

function readMessage(plan: Plan, reader: Reader, end: number): Values {
  const values = { ...plan.template };
  for (const field of plan.fresh) values[field.name] = field.map ? {} : [];
  while (reader.pos < end) {
    reader.varint(end);
    const tag = reader.lo;
    const wireType = tag & 7;
    if (tag >>> 3 === 0 || reader.hi !== 0) throw new ProtobufDecodeError(`invalid field number in tag ${reader.hi * TWO_32 + tag}`);
    const field = plan.byNumber[tag >>> 3];
    if (field === undefined) {
      reader.skip(wireType, end);
    } else if (field.repeated && field.scalar !== undefined && field.wireType === VARINT && wireType === LENGTH_DELIMITED) {
      // A packed list of scalars.
      const stop = reader.delimited(end);
      const list = values[field.name] as unknown[];
      while (reader.pos < stop) list.push(reader.scalar(field.scalar, stop));
    } else if (wireType !== field.wireType) {
      reader.skip(wireType, end);
    } else if (field.map) {
      const entry = readMessage(MAP_ENTRY_PLAN, reader, reader.delimited(end));
      // Defined, not assigned: a key such as __proto__ is an entry like any other.
      Object.defineProperty(values[field.name], entry.key as string, { value: entry.value, enumerable: true, writable: true, configurable: true });
    } else {
      const value = field.message !== undefined ? readMessage(field.message, reader, reader.delimited(end)) : reader.scalar(field.scalar!, end);
      if (field.repeated) (values[field.name] as unknown[]).push(value);
      else values[field.name] = value;
    }
  }
  return values;
}

const MAP_ENTRY = messageSchema<{ key: string; value: string }>('MapEntry', [
  { no: 1, name: 'key', type: 'string' },
  { no: 2, name: 'value', type: 'string' },
]);
const MAP_ENTRY_PLAN = MAP_ENTRY.plan;

export function decodeMessage<T extends object>(schema: MessageSchema<T>, bytes: Uint8Array): T {
  return readMessage(schema.plan, new Reader(bytes), bytes.length) as T;
}

// ---- encoding: sizes first, then one buffer of exactly that size ----

function varint32Size(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Bytes of a scalar's value (not its tag): an int32 below 0 is sign-extended to 10 bytes, as protobuf does. */
function scalarSize(type: ScalarType, value: unknown): number {
  switch (type) {
    case 'int32':
      return (value as number) < 0 ? 10 : varint32Size(value as number);
    case 'uint32':
      return varint32Size((value as number) >>> 0);
    case 'bool':
      return 1;
    case 'uint64': {
      let n = value as number;
      let size = 1;
      while (n >= 0x80) {
        n = Math.floor(n / 0x80);
        size++;
      }
      return size;
    }
    case 'string': {
      const bytes = Buffer.byteLength(value as string, 'utf8');
      return varint32Size(bytes) + bytes;
    }
  }
}

/** Whether a field is written (proto3: not a scalar at its default, nor an absent or empty field). */
function present(field: FieldPlan, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (field.repeated) return (value as unknown[]).length > 0;
  if (field.map) return Object.keys(value as object).length > 0;
  if (field.message !== undefined || field.optional) return true;
  return value !== 0 && value !== false && value !== '';
}

function fieldSize(field: FieldPlan, value: unknown): number {
  const tag = varint32Size(field.tag);
  if (field.message !== undefined) {
    const inner = messageSize(field.message, value as Values);
    return tag + varint32Size(inner) + inner;
  }
  return tag + scalarSize(field.scalar!, value);
}

function packedSize(field: FieldPlan, list: readonly unknown[]): number {
  let inner = 0;
  for (const item of list) inner += scalarSize(field.scalar!, item);
  return inner;
}

function messageSize(plan: Plan, message: Values): number {
  let size = 0;
  for (const field of plan.fields) {
    const value = message[field.name];
    if (!present(field, value)) continue;
    if (field.map) {
      for (const key of Object.keys(value as object)) {
        const inner = messageSize(MAP_ENTRY_PLAN, { key, value: (value as Record<string, string>)[key] });
        size += varint32Size(field.tag) + varint32Size(inner) + inner;
      }
    } else if (field.repeated && field.message === undefined) {
      const inner = packedSize(field, value as unknown[]);
      size += varint32Size(field.tag) + varint32Size(inner) + inner;
    } else if (field.repeated) {
      for (const item of value as unknown[]) size += fieldSize(field, item);
    } else size += fieldSize(field, value);
  }
  return size;
}

class Writer {
  pos = 0;
  constructor(readonly buffer: Buffer) {}

  varint32(value: number): void {
    while (value > 0x7f) {
      this.buffer[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buffer[this.pos++] = value;
  }

  scalar(type: ScalarType, value: unknown): void {
    switch (type) {
      case 'int32': {
        const n = value as number;
        if (n >= 0) return this.varint32(n);
        // Sign-extended to 64 bits: the low 32 bits, then all ones.
        let lo = n >>> 0;
        for (let i = 0; i < 4; i++) {
          this.buffer[this.pos++] = (lo & 0x7f) | 0x80;
          lo >>>= 7;
        }
        this.buffer[this.pos++] = (lo & 0x0f) | 0xf0;
        for (let i = 0; i < 4; i++) this.buffer[this.pos++] = 0xff;
        this.buffer[this.pos++] = 0x01;
        return;
      }
      case 'uint32':
        return this.varint32((value as number) >>> 0);
      case 'bool':
        this.buffer[this.pos++] = value ? 1 : 0;
        return;
      case 'uint64': {
        let n = value as number;
        while (n >= 0x80) {
          this.buffer[this.pos++] = (n % 0x80) | 0x80;
          n = Math.floor(n / 0x80);
        }
        this.buffer[this.pos++] = n;
        return;
      }
      case 'string': {
        const text = value as string;
        this.varint32(Buffer.byteLength(text, 'utf8'));
        this.pos += this.buffer.write(text, this.pos, 'utf8');
        return;
      }
    }
  }

  message(plan: Plan, message: Values): void {
    for (const field of plan.fields) {
      const value = message[field.name];
      if (!present(field, value)) continue;
      if (field.map) {
        for (const key of Object.keys(value as object)) this.embedded(field.tag, MAP_ENTRY_PLAN, { key, value: (value as Record<string, string>)[key] });
      } else if (field.repeated && field.message === undefined) {
        this.varint32(((field.tag & ~7) | LENGTH_DELIMITED) >>> 0);
        this.varint32(packedSize(field, value as unknown[]));
        for (const item of value as unknown[]) this.scalar(field.scalar!, item);
      } else if (field.repeated) {
        for (const item of value as unknown[]) this.field(field, item);
      } else this.field(field, value);
    }
  }

  private field(field: FieldPlan, value: unknown): void {
    if (field.message !== undefined) return this.embedded(field.tag, field.message, value as Values);
    this.varint32(field.tag);
    this.scalar(field.scalar!, value);
  }

  private embedded(tag: number, plan: Plan, message: Values): void {
    this.varint32(tag);
    this.varint32(messageSize(plan, message));
    this.message(plan, message);
  }
}

export function encodeMessage<T extends object>(schema: MessageSchema<T>, message: object): Uint8Array {
  const { plan } = schema;
  const values = message as Values;
  const writer = new Writer(Buffer.allocUnsafe(messageSize(plan, values)));
  writer.message(plan, values);
  return writer.buffer;
}
