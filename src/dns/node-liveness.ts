/**
 * Which other dns instances on the store are dead (docs/registry.md): one
 * whose liveness row's `beats` did not change for timeoutMs of THIS
 * instance's clock, so the hosts' clocks need not agree. A node first seen
 * now gets the whole timeout from now. Pure: the clock is passed in.
 */
import type { DnsNode } from '../store/index.js';

interface Seen {
  beats: number;
  /** Local time the beats value was first seen. */
  since: number;
}

export class NodeLiveness {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly self: string,
    private readonly timeoutMs: number,
  ) {}

  /** The nodes of `nodes` (other than this one) that are dead as of now. */
  observe(nodes: readonly DnsNode[], now: number): DnsNode[] {
    const dead: DnsNode[] = [];
    const present = new Set<string>();
    for (const node of nodes) {
      if (node.nodeId === this.self) continue;
      present.add(node.nodeId);
      const seen = this.seen.get(node.nodeId);
      if (!seen || seen.beats !== node.beats) this.seen.set(node.nodeId, { beats: node.beats, since: now });
      else if (now - seen.since >= this.timeoutMs) dead.push(node);
    }
    for (const id of this.seen.keys()) if (!present.has(id)) this.seen.delete(id);
    return dead;
  }
}
