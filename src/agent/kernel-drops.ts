/**
 * Datagrams the kernel dropped on the agent's UDP ports because a socket's
 * receive buffer was full (docs/agent.md, "Kernel drops"): the `drops`
 * column of /proc/net/udp and /proc/net/udp6, summed per local port. They
 * never reach the agent, so its own counters cannot see them.
 */
import { readFile } from 'node:fs/promises';

/** Per local port, the drops of every socket bound to it, from /proc/net/udp text. */
export function parseUdpDrops(text: string): Map<number, number> {
  const drops = new Map<number, number>();
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (fields.length < 13) continue;
    const port = parseInt(fields[1]!.split(':')[1] ?? '', 16);
    const dropped = Number(fields[fields.length - 1]);
    if (!Number.isInteger(port) || !Number.isFinite(dropped)) continue;
    drops.set(port, (drops.get(port) ?? 0) + dropped);
  }
  return drops;
}

const TABLES = ['/proc/net/udp', '/proc/net/udp6'];

/** The drops on the given ports now; undefined where /proc/net is not there (not Linux). */
export async function readUdpDrops(ports: readonly number[], tables: readonly string[] = TABLES): Promise<Map<number, number> | undefined> {
  const texts = await Promise.all(tables.map((t) => readFile(t, 'utf8').catch(() => undefined)));
  if (texts.every((t) => t === undefined)) return undefined;
  const total = new Map<number, number>(ports.map((p) => [p, 0]));
  for (const text of texts) {
    if (text === undefined) continue;
    for (const [port, dropped] of parseUdpDrops(text)) if (total.has(port)) total.set(port, total.get(port)! + dropped);
  }
  return total;
}
