/**
 * Runs one scenario with one strategy on a virtual clock (docs/simulator.md):
 * a Poisson stream of calls, each from a random agent, each agent with its
 * own balancer (its own view of the hosts). A call goes to the host the
 * agent picks; the host's model decides its latency and outcome; the agent
 * gets the report when the call ends, with its duration. Hosts' reported
 * loads reach every agent as dns pushes them: a new host set whenever a load
 * moved, looked at every LOAD_PUSH_MS. No sockets, no timers: the same seed
 * gives the same run.
 *
 * What it keeps is per bucket of BUCKET_MS (calls per host, failures), the
 * latency of every successful call, and, sampled every bucket, which hosts
 * each agent keeps out of its ordinary picks.
 */
import { createBalancer } from '../balancer/factory.js';
import type { LoadBalanceParams } from '../balancer/params.js';
import { RetCode } from '../protocol/retcode.js';
import type { RouteBalancer, StrategyName } from '../balancer/types.js';
import { exponentialGap, logNormal, seededRandom } from './random.js';
import type { Scenario } from './scenarios.js';

export const BUCKET_MS = 100;
/** A refused call fails this fast. */
const REFUSED_MS = 1;
/** Spread of a healthy call's latency around its median. */
const LATENCY_SIGMA = 0.25;
/** Picks that name no host (OVERLOAD, NOEXIST) are failed calls of no host: this index. */
export const NO_HOST = -1;
/** How often dns pushes loads that moved: [registry] load_flush_ms's default (docs/registry.md). */
const LOAD_PUSH_MS = 1000;

export interface RunRecord {
  readonly scenario: Scenario;
  readonly strategy: StrategyName;
  readonly buckets: number;
  /** calls[bucket * hosts + host]: calls started in the bucket on the host. */
  readonly calls: Uint32Array;
  /** Calls started in the bucket, failed ones and those that got no host included. */
  readonly total: Uint32Array;
  readonly failed: Uint32Array;
  /** Latency of every successful call, ms, in no particular order. */
  readonly latencies: Float64Array;
  /** out[bucket * hosts + host]: agents that had the host out of their ordinary picks at the bucket's end. */
  readonly out: Uint16Array;
  /** Times (ms) at which some agent took the bad host back into its picks. */
  readonly readmissions: readonly number[];
}

interface Completion {
  at: number;
  agent: number;
  host: number;
  ok: boolean;
  latency: number;
}

/** A binary min-heap of call completions by time. */
class CompletionQueue {
  private readonly items: Completion[] = [];

  get size(): number {
    return this.items.length;
  }

  peekTime(): number {
    return this.items.length === 0 ? Infinity : this.items[0]!.at;
  }

  push(item: Completion): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= item.at) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): Completion {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]!.at < items[left]!.at ? right : left;
        if (items[child]!.at >= last.at) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}

/** A growable array of doubles. */
class Samples {
  private data = new Float64Array(1 << 16);
  private length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  values(): Float64Array {
    return this.data.slice(0, this.length);
  }
}

export interface RunOptions {
  readonly params: LoadBalanceParams;
  readonly seed: number;
}

export function runScenario(scenario: Scenario, strategy: StrategyName, { params, seed }: RunOptions): RunRecord {
  const hostCount = scenario.hosts.length;
  const buckets = Math.ceil(scenario.durationMs / BUCKET_MS);
  const calls = new Uint32Array(buckets * hostCount);
  const total = new Uint32Array(buckets);
  const failed = new Uint32Array(buckets);
  const out = new Uint16Array(buckets * hostCount);
  const latencies = new Samples();
  const readmissions: number[] = [];

  // Common random numbers: the traffic and the hosts' answers are the same stream for every strategy.
  const world = seededRandom(seed);
  const addrs = scenario.hosts.map((_, i) => ({ ip: (10 << 24) | (i + 1), port: 9000 }));
  const indexOf = new Map(addrs.map((addr, i) => [addr.ip, i]));
  const inputsAt = (atMs: number) => scenario.hosts.map((h, i) => ({ ...addrs[i]!, weight: h.weight, load: h.load(atMs) }));
  let inputs = inputsAt(0);
  const agents: RouteBalancer[] = [];
  for (let a = 0; a < scenario.agents; a++) {
    const balancer = createBalancer(strategy, { ...params, strategy }, seededRandom(seed * 7919 + a + 1));
    balancer.setHosts(inputs, 0);
    agents.push(balancer);
  }
  let nextPush = LOAD_PUSH_MS;
  const pushLoads = (atMs: number): void => {
    const next = inputsAt(atMs);
    if (next.every((input, i) => input.load === inputs[i]!.load)) return;
    inputs = next;
    for (const balancer of agents) balancer.setHosts(inputs, atMs);
  };
  const wasOut = new Uint8Array(scenario.agents);
  const inFlight = new Int32Array(hostCount);
  const queue = new CompletionQueue();
  const ratePerMs = scenario.rate / 1000;

  const complete = (done: Completion): void => {
    inFlight[done.host]!--;
    agents[done.agent]!.report(addrs[done.host]!, done.ok, done.at, done.latency);
  };

  const sample = (bucket: number): void => {
    for (let a = 0; a < agents.length; a++) {
      const views = agents[a]!.hosts();
      for (const view of views) {
        if (!view.overloaded) continue;
        out[bucket * hostCount + indexOf.get(view.ip)!]!++;
      }
      if (scenario.bad === null) continue;
      const badOut = views.some((v) => v.overloaded && indexOf.get(v.ip) === scenario.bad) ? 1 : 0;
      if (wasOut[a] === 1 && badOut === 0) readmissions.push((bucket + 1) * BUCKET_MS);
      wasOut[a] = badOut;
    }
  };

  let now = exponentialGap(world, ratePerMs);
  let sampledBucket = 0;
  while (now < scenario.durationMs) {
    while (queue.peekTime() <= now) complete(queue.pop());
    if (now >= nextPush) {
      pushLoads(now);
      nextPush = (Math.floor(now / LOAD_PUSH_MS) + 1) * LOAD_PUSH_MS;
    }
    const bucket = Math.floor(now / BUCKET_MS);
    for (; sampledBucket < bucket; sampledBucket++) sample(sampledBucket);
    const agent = Math.floor(world() * agents.length);
    const pick = agents[agent]!.pick(now);
    total[bucket]!++;
    if (pick.retcode !== RetCode.SUCC || pick.host === undefined) {
      failed[bucket]!++;
    } else {
      const index = indexOf.get(pick.host.ip)!;
      const model = scenario.hosts[index]!;
      const condition = model.condition(now);
      calls[bucket * hostCount + index]!++;
      let ok: boolean;
      let latency: number;
      if (condition.down || inFlight[index]! >= model.limit) {
        ok = false;
        latency = REFUSED_MS;
      } else {
        const queueing = 1 + Math.max(0, inFlight[index]! - model.slots) / model.slots;
        latency = logNormal(world, model.serviceMs * condition.slowdown, LATENCY_SIGMA) * queueing;
        ok = world() >= condition.failRate;
      }
      inFlight[index]!++;
      if (ok) latencies.push(latency);
      else failed[bucket]!++;
      queue.push({ at: now + latency, agent, host: index, ok, latency });
    }
    now += exponentialGap(world, ratePerMs);
  }
  while (queue.size > 0 && queue.peekTime() <= scenario.durationMs) complete(queue.pop());
  for (; sampledBucket < buckets; sampledBucket++) sample(sampledBucket);
  return { scenario, strategy, buckets, calls, total, failed, latencies: latencies.values(), out, readmissions };
}
