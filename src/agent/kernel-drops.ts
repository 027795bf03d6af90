/**
 * Datagrams the kernel dropped on the agent's UDP ports because a socket's
 * receive buffer was full (docs/agent.md, "Kernel drops"): the `drops`
 * column of /proc/net/udp and /proc/net/udp6, summed per local port over
 * this process's own sockets (matched by inode, so another process on the
 * same port is not counted). They never reach the agent, so its own counters
 * cannot see them.
 */
import { readdir as readdirCallback, readFile as readFileCallback, readlink as readlinkCallback } from 'node:fs';
import { promisify } from 'node:util';

// node:fs/promises would load ~0.5 MB of stream and readline code into the idle agent (docs/agent.md, "Memory").
const readdir = promisify(readdirCallback);
const readFile = promisify(readFileCallback);
const readlink = promisify(readlinkCallback);

/**
 * Per local port, the drops of every socket bound to it, from /proc/net/udp
 * text; with `inodes`, only of the sockets whose inode is one of them.
 */
export function parseUdpDrops(text: string, inodes?: ReadonlySet<number>): Map<number, number> {
  const drops = new Map<number, number>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (fields.length < 13) continue;
    const port = parseInt(fields[1]!.split(':')[1] ?? '', 16);
    const dropped = Number(fields[fields.length - 1]);
    if (!Number.isInteger(port) || !Number.isFinite(dropped)) continue;
    if (inodes && !inodes.has(Number(fields[9]))) continue;
    drops.set(port, (drops.get(port) ?? 0) + dropped);
  }
  return drops;
}

const TABLES = ['/proc/net/udp', '/proc/net/udp6'];
const SOCKET_LINK = /^socket:\[(\d+)\]$/;

/** The inodes of this process's sockets, from its /proc/self/fd links; undefined where that cannot be read. */
async function ownSocketInodes(): Promise<Set<number> | undefined> {
  const fds = await readdir('/proc/self/fd').catch(() => undefined);
  if (!fds) return undefined;
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return new Set(links.flatMap((link) => SOCKET_LINK.exec(link)?.[1] ?? []).map(Number));
}

/** The drops on the given ports of this process's sockets now; undefined where /proc/net is not there (not Linux). */
export async function readUdpDrops(ports: readonly number[], tables: readonly string[] = TABLES): Promise<Map<number, number> | undefined> {
  const texts = await Promise.all(tables.map((t) => readFile(t, 'utf8').catch(() => undefined)));
  if (texts.every((t) => t === undefined)) return undefined;
  const inodes = await ownSocketInodes();
  const total = new Map<number, number>(ports.map((p) => [p, 0]));
  for (const text of texts) {
    if (text === undefined) continue;
    for (const [port, dropped] of parseUdpDrops(text, inodes)) if (total.has(port)) total.set(port, total.get(port)! + dropped);
  }
  return total;
}
