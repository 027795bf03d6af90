/**
 * Status rows as one Float64Array (9 numbers a row), the cheap form to hand a
 * batch to a worker thread: one copy of a flat buffer instead of cloning
 * thousands of objects. Every field is an integer below 2^53, so it is exact.
 */
import { STATUS_ROW_FIELDS, type StatusRow } from '../store/status.js';

const WIDTH = STATUS_ROW_FIELDS.length;

export function packRows(rows: readonly StatusRow[]): Float64Array {
  const packed = new Float64Array(rows.length * WIDTH);
  let offset = 0;
  for (const row of rows) {
    for (const field of STATUS_ROW_FIELDS) packed[offset++] = row[field];
  }
  return packed;
}

export function unpackRows(packed: Float64Array): StatusRow[] {
  const rows: StatusRow[] = [];
  for (let offset = 0; offset < packed.length; offset += WIDTH) {
    const row = {} as StatusRow;
    STATUS_ROW_FIELDS.forEach((field, i) => {
      row[field] = packed[offset + i]!;
    });
    rows.push(row);
  }
  return rows;
}
