/**
 * A server's side of self-registration (docs/registry.md), in raw frames:
 * register an instance with a real dns over TCP, then renew its lease with a
 * load. Closing the client ends the lease after the dns's close_grace_ms.
 *
 *   const server = await registerOverTcp(dns.port, { modid: 1, cmdid: 1, ip: '127.0.0.2', port: 9000, ttlMs: 60_000 });
 *   await server.renew({ inFlight: 3, connections: 2, cpuPermille: 150, score: 420 });
 *   await server.client.close();
 */
import { ipToInt32 } from '../../src/protocol/ip.js';
import type { InstanceLoad } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { registryStatusName, RegistryStatus } from '../../src/protocol/registry-status.js';
import { RawTcpClient } from './net.js';

export interface RawInstance {
  modid: number;
  cmdid: number;
  /** Dotted IPv4. */
  ip: string;
  port: number;
  weight?: number;
  ttlMs?: number;
}

export interface RegisteredServer {
  readonly client: RawTcpClient;
  readonly lease: number;
  /** One renewal carrying this load; rejects unless the dns answers OK. */
  renew(load: InstanceLoad): Promise<void>;
}

async function expectOk(client: RawTcpClient, seq: number, what: string) {
  const reply = await client.nextMessage(MsgId.RegistryReply);
  if (reply.seq !== seq || reply.status !== RegistryStatus.OK) {
    throw new Error(`${what}: seq ${reply.seq} status ${registryStatusName(reply.status)} ${reply.reason}`);
  }
  return reply;
}

export async function registerOverTcp(dnsPort: number, instance: RawInstance): Promise<RegisteredServer> {
  const client = await RawTcpClient.connect(dnsPort);
  const key = { modid: instance.modid, cmdid: instance.cmdid, ip: ipToInt32(instance.ip), port: instance.port };
  let seq = 1;
  client.send(MsgId.RegisterRequest, { seq, ...key, weight: instance.weight, ttlMs: instance.ttlMs ?? 60_000 });
  // An OK reply always carries its lease.
  const lease = (await expectOk(client, seq, `register ${instance.ip}:${instance.port}`)).lease!;
  return {
    client,
    lease,
    async renew(load) {
      seq += 1;
      client.send(MsgId.RenewRequest, { seq, lease, ...key, load });
      await expectOk(client, seq, `renew ${instance.ip}:${instance.port}`);
    },
  };
}
