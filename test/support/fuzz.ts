/**
 * Fuzz inputs for the protocol boundary (docs/protocol.md, "Fuzzing"): one
 * valid message per msgid, and the mutations an attacker or a broken network
 * would make of their frames. Shared by the decoder fuzz test and the test
 * that throws them at running services.
 */
import { encodeFrame, HEADER_SIZE } from '../../src/protocol/frame.js';
import { ipToInt32 } from '../../src/protocol/ip.js';
import { encodeBody, type KnownMsgId, type MessageTypes } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';

const host = { ip: ipToInt32('200.1.2.3'), port: 8080, weight: 3 };
/** One valid message per msgid, the seeds the mutations start from. */
export const SAMPLES: { [K in KnownMsgId]: MessageTypes[K] } = {
  [MsgId.GetRouteRequest]: { modid: 1, cmdid: 2 },
  [MsgId.GetRouteResponse]: { modid: 1, cmdid: 2, host: [host, { ip: 1, port: 2, load: 900 }], strategy: 'adaptive' },
  [MsgId.ReportStatusRequest]: { modid: 1, cmdid: 2, caller: ipToInt32('10.0.0.9'), results: [{ ip: 1, port: 2, succ: 3, err: 4, overload: true }], ts: 1700000000, seq: 9 },
  [MsgId.GetHostRequest]: { seq: 7, modid: 1, cmdid: 2, key: 'user-42' },
  [MsgId.GetHostResponse]: { seq: 7, modid: 1, cmdid: 2, retcode: 0, host },
  [MsgId.ReportRequest]: { modid: 1, cmdid: 2, host, retcode: 2, durationUs: 1500 },
  [MsgId.ApiGetRouteRequest]: { modid: 1, cmdid: 2 },
  [MsgId.ApiGetRouteResponse]: { modid: 1, cmdid: 2, host: [host] },
  [MsgId.RouteStatusRequest]: { modid: 1, cmdid: 2 },
  [MsgId.RouteStatusResponse]: { modid: 1, cmdid: 2, strategy: 'lars', hosts: [] } as never,
  [MsgId.RegisterRequest]: { seq: 1, modid: 1, cmdid: 2, ip: 0, port: 9000, weight: 2, ttlMs: 3000, metadata: { zone: 'a' } },
  [MsgId.RenewRequest]: { seq: 2, lease: 7, modid: 1, cmdid: 2, ip: 1, port: 9000, load: { inFlight: 1, connections: 2, cpuPermille: 3, score: 4 } },
  [MsgId.DeregisterRequest]: { seq: 3, lease: 7, modid: 1, cmdid: 2, ip: 1, port: 9000 },
  [MsgId.RegistryReply]: { seq: 3, status: 2, reason: 'no module', lease: 7, ttlMs: 3000, ip: 1 },
  [MsgId.KeepaliveRequest]: { seq: 5 },
  [MsgId.KeepaliveReply]: { seq: 5 },
  [MsgId.ReportAck]: { seq: [1, 2, 3] },
  [MsgId.AuthRequest]: { token: 'abc' },
  [MsgId.AuthRefused]: { reason: 'token not accepted' },
};
export const MSGIDS = Object.keys(SAMPLES).map(Number) as KnownMsgId[];

/** A mutation of a valid frame: what an attacker or a broken network would send. */
export function mutate(random: () => number, frame: Buffer): Buffer {
  const bytes = Buffer.from(frame);
  const at = () => Math.floor(random() * bytes.length);
  switch (Math.floor(random() * 6)) {
    case 0: // flip some bits anywhere, header included
      for (let i = 0; i < 1 + random() * 4; i++) bytes[at()]! ^= 1 << Math.floor(random() * 8);
      return bytes;
    case 1: // truncated
      return bytes.subarray(0, at());
    case 2: // a forged body length
      bytes.writeInt32LE(Math.floor((random() - 0.2) * 2 ** 31), 4);
      return bytes;
    case 3: // a 10-byte varint of 0xff where the body starts
      return Buffer.concat([bytes.subarray(0, HEADER_SIZE), Buffer.alloc(10, 0xff), bytes.subarray(HEADER_SIZE)]);
    case 4: // random bytes spliced in
      return Buffer.concat([bytes.subarray(0, at()), randomBytes(random, 1 + Math.floor(random() * 32)), bytes.subarray(at())]);
    default: // another msgid on this body
      bytes.writeInt32LE(MSGIDS[Math.floor(random() * MSGIDS.length)]!, 0);
      return bytes;
  }
}

export function randomBytes(random: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
}

/** Every sample as a whole frame, in MSGIDS order. */
export const validFrames = MSGIDS.map((msgid) => encodeFrame(msgid, encodeBody(msgid, SAMPLES[msgid] as never)));
