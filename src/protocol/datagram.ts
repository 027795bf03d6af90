/**
 * The one reading of a UDP datagram (docs/protocol.md: exactly one frame per
 * datagram, capped at LARS_MAX_FRAME): what the agent's ports and the client
 * accept, and why anything else is dropped.
 */
import { HEADER_SIZE, LARS_MAX_FRAME } from './frame.js';
import { decodeBody, MalformedBodyError, type DecodedTypes, type KnownMsgId } from './messages.js';

/** Why a datagram was dropped; the reason label of the drop counters. */
export const DROP_REASONS = ['short', 'oversize', 'length_mismatch', 'unknown_msgid', 'malformed_body'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface DroppedDatagram {
  readonly dropped: DropReason;
  /** For the log line: what was wrong. */
  readonly detail: string;
}

/** A datagram that passed: its msgid (one of those accepted) and its body, decoded. */
export type AcceptedDatagram<K extends KnownMsgId> = { [M in K]: { readonly msgid: M; readonly message: DecodedTypes[M] } }[K];

/**
 * Checks one datagram and decodes its body, if its msgid is one of `accepted`.
 * The header's length must be the datagram's size exactly: a datagram is never
 * a part of a frame nor several.
 */
export function readDatagram<K extends KnownMsgId>(datagram: Buffer, accepted: ReadonlySet<K>): AcceptedDatagram<K> | DroppedDatagram {
  const size = datagram.length;
  if (size < HEADER_SIZE) return { dropped: 'short', detail: `${size} bytes, less than a header` };
  if (size > LARS_MAX_FRAME) return { dropped: 'oversize', detail: `${size} bytes exceeds the cap of ${LARS_MAX_FRAME}` };
  const length = datagram.readInt32LE(4);
  if (length !== size - HEADER_SIZE) {
    return { dropped: 'length_mismatch', detail: `header says ${length} body bytes, datagram has ${size - HEADER_SIZE}` };
  }
  const msgid = datagram.readInt32LE(0) as K;
  if (!accepted.has(msgid)) return { dropped: 'unknown_msgid', detail: `unknown msgid ${msgid}` };
  try {
    return { msgid, message: decodeBody(msgid, datagram.subarray(HEADER_SIZE)) } as AcceptedDatagram<K>;
  } catch (err) {
    if (err instanceof MalformedBodyError) return { dropped: 'malformed_body', detail: err.message };
    throw err;
  }
}
