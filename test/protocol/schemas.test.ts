/**
 * The codec's schemas (src/protocol/schemas.ts) against proto/lars.proto,
 * the contract shared with Lars's C++ code: every message there has a
 * schema with the same fields, numbers, types and labels, and no schema
 * names a field the .proto does not have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { MessageSchema } from '../../src/protocol/protobuf.js';
import { SCHEMAS } from '../../src/protocol/schemas.js';

const PROTO = readFileSync(new URL('../../proto/lars.proto', import.meta.url), 'utf8').replace(/\/\/.*$/gm, '');
const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Each message's fields as "no name type label" lines, from the .proto text. */
function protoMessages(): Map<string, string[]> {
  const messages = new Map<string, string[]>();
  for (const [, name, body] of PROTO.matchAll(/message\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields = [...body!.matchAll(/(optional\s+|repeated\s+)?(map<string,\s*string>|\w+)\s+(\w+)\s*=\s*(\d+);/g)].map(([, label, type, field, no]) => {
      const kind = type!.startsWith('map<') ? 'map' : type!;
      return `${no} ${camel(field!)} ${kind} ${label?.trim() ?? ''}`.trim();
    });
    messages.set(name!, fields);
  }
  return messages;
}

function schemaFields(schema: MessageSchema<object>): string[] {
  return schema.fields.map((f) => `${f.no} ${f.name} ${typeof f.type === 'object' ? f.type.name : f.type} ${f.label ?? ''}`.trim());
}

test('every message of proto/lars.proto has a schema saying the same, field for field', () => {
  const messages = protoMessages();
  assert.ok(messages.size >= 17, `found ${messages.size} messages in lars.proto`);
  for (const [name, fields] of messages) {
    const schema = SCHEMAS[name];
    assert.ok(schema, `no schema for ${name}`);
    assert.deepEqual(schemaFields(schema), fields, name);
  }
  assert.deepEqual(Object.keys(SCHEMAS).sort(), [...messages.keys()].sort());
});
