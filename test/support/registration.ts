/**
 * A server's side of self-registration (docs/registry.md), in raw frames
 * over TCP against a real dns: ServerLink sends any request and matches its
 * reply by seq; registerOverTcp registers one instance and renews it.
 *
 *   const server = await registerOverTcp(dns.port, { modid: 1, cmdid: 1, ip: '127.0.0.2', port: 9000, ttlMs: 60_000 });
 *   await server.renew({ inFlight: 3, connections: 2, cpuPermille: 150, score: 420 });
 *   await server.client.close();
 */
import { ipToInt32 } from '../../src/protocol/ip.js';
import { decodeBody, type DecodedRegistryReply, type InstanceLoad, type RegisterRequest } from '../../src/protocol/messages.js';
import { MsgId } from '../../src/protocol/msgid.js';
import { registryStatusName, RegistryStatus } from '../../src/protocol/registry-status.js';
import { RawTcpClient, waitFor } from './net.js';

/** The instance a lease names, as on the wire (ip as int32). */
export interface InstanceRef {
  modid: number;
  cmdid: number;
  ip: number;
  port: number;
}

/** A server's link to dns: one request, its reply matched by seq, so requests may be in flight together. */
export class ServerLink {
  private seq = 0;
  private constructor(readonly client: RawTcpClient) {}

  static async open(port: number): Promise<ServerLink> {
    return new ServerLink(await RawTcpClient.connect(port));
  }

  register(request: Omit<RegisterRequest, 'seq'>): Promise<DecodedRegistryReply> {
    return this.ask(MsgId.RegisterRequest, request);
  }

  renew(lease: number, instance: InstanceRef, load: InstanceLoad | null = null): Promise<DecodedRegistryReply> {
    return this.ask(MsgId.RenewRequest, { lease, ...instance, load });
  }

  deregister(lease: number, instance: InstanceRef): Promise<DecodedRegistryReply> {
    return this.ask(MsgId.DeregisterRequest, { lease, ...instance });
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private async ask(msgid: typeof MsgId.RegisterRequest | typeof MsgId.RenewRequest | typeof MsgId.DeregisterRequest, body: Record<string, unknown>): Promise<DecodedRegistryReply> {
    const seq = ++this.seq;
    this.client.send(msgid, { ...body, seq } as never);
    // Replies to requests in flight together may come in any order (a refusal needs no store write).
    return waitFor(() =>
      this.client.frames
        .filter((f) => f.msgid === MsgId.RegistryReply)
        .map((f) => decodeBody(MsgId.RegistryReply, f.body))
        .find((reply) => reply.seq === seq),
    );
  }
}

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

function expectOk(reply: DecodedRegistryReply, what: string): DecodedRegistryReply {
  if (reply.status !== RegistryStatus.OK) throw new Error(`${what}: status ${registryStatusName(reply.status)} ${reply.reason}`);
  return reply;
}

export async function registerOverTcp(dnsPort: number, instance: RawInstance): Promise<RegisteredServer> {
  const link = await ServerLink.open(dnsPort);
  const key = { modid: instance.modid, cmdid: instance.cmdid, ip: ipToInt32(instance.ip), port: instance.port };
  const name = `${instance.ip}:${instance.port}`;
  const { lease } = expectOk(await link.register({ ...key, weight: instance.weight, ttlMs: instance.ttlMs ?? 60_000 }), `register ${name}`);
  return {
    client: link.client,
    lease,
    async renew(load) {
      expectOk(await link.renew(lease, key, load), `renew ${name}`);
    },
  };
}
