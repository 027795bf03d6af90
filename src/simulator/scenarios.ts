/**
 * The quality simulator's scenarios (docs/simulator.md): a route's hosts, how
 * each behaves over time, the traffic, and which host is the bad one. Times
 * are simulated ms from the start of the run.
 */

/** How a host answers calls started at one moment. */
export interface HostCondition {
  /** Every call fails at once (refused connection). */
  readonly down: boolean;
  /** Share of the other calls that fail after their normal latency. */
  readonly failRate: number;
  /** Latency multiplier. */
  readonly slowdown: number;
}

export interface HostModel {
  readonly name: string;
  /** The route weight dns gives it. */
  readonly weight: number;
  /** Median time of a call on an idle host, ms. */
  readonly serviceMs: number;
  /** Calls it serves at full speed; each call in flight beyond adds serviceMs/slots (shared processors). */
  readonly slots: number;
  /** Calls in flight beyond this fail at once (a full accept queue). */
  readonly limit: number;
  readonly condition: (atMs: number) => HostCondition;
  /** The load score it reports through dns (docs/registry.md: 1000 at capacity); null: none, as a configured host. */
  readonly load: (atMs: number) => number | null;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly durationMs: number;
  /** Calls per second over all agents (a Poisson stream). */
  readonly rate: number;
  readonly agents: number;
  readonly hosts: readonly HostModel[];
  /** Index of the host the scenario hurts, or null when all are treated alike. */
  readonly bad: number | null;
  /** When the bad host is bad (the last period for a repeating fault); null: never, or always. */
  readonly fault: { readonly startMs: number; readonly endMs: number } | null;
  /** Also run without the fault, for the p99 ratio. */
  readonly baseline: boolean;
}

const HEALTHY: HostCondition = Object.freeze({ down: false, failRate: 0, slowdown: 1 });
const DOWN: HostCondition = Object.freeze({ down: true, failRate: 0, slowdown: 1 });
const SERVICE_MS = 10;
const LIGHT_LOAD = 100;
const HEAVY_LOAD = 900;
const LOADED_SLOWDOWN = 1.5;
/** Every host's accept queue: 30 calls in flight (a healthy host has about 4 at 2,000 calls/s over five). */
const LIMIT = 30;
const SECOND = 1000;

const UNREPORTED = (): null => null;

function host(index: number, condition: (atMs: number) => HostCondition = () => HEALTHY, weight = 1, load: HostModel['load'] = UNREPORTED): HostModel {
  return { name: `h${index + 1}`, weight, serviceMs: SERVICE_MS, slots: 20 * weight, limit: LIMIT * weight, condition, load };
}

function fiveHosts(bad: (atMs: number) => HostCondition): HostModel[] {
  return [0, 1, 2, 3].map((i) => host(i)).concat(host(4, bad));
}

const during = (startMs: number, endMs: number, inside: HostCondition) => (atMs: number) =>
  atMs >= startMs && atMs < endMs ? inside : HEALTHY;

const FLAP_PERIOD_MS = 30 * SECOND;
const FLAP_DOWN_MS = 10 * SECOND;
const FLAP_START_MS = 20 * SECOND;

const flapping = (atMs: number): HostCondition =>
  atMs >= FLAP_START_MS && (atMs - FLAP_START_MS) % FLAP_PERIOD_MS < FLAP_DOWN_MS ? DOWN : HEALTHY;

const slow: HostCondition = Object.freeze({ down: false, failRate: 0, slowdown: 10 });
/** A host busy with other work answers this much slower. */
const busy: HostCondition = Object.freeze({ down: false, failRate: 0, slowdown: LOADED_SLOWDOWN });
const brownout: HostCondition = Object.freeze({ down: false, failRate: 0.4, slowdown: 1 });

/** One agent at 2,000 calls/s unless said otherwise; the fault, when there is one, hurts the last host. */
function scenario(name: string, description: string, seconds: number, hosts: HostModel[], extra: Partial<Scenario> = {}): Scenario {
  return { name, description, durationMs: seconds * SECOND, rate: 2000, agents: 1, hosts, bad: null, fault: null, baseline: false, ...extra };
}

const badFrom = (startS: number, endS: number) => ({ bad: 4, fault: { startMs: startS * SECOND, endMs: endS * SECOND } });

const LOADED_FROM_MS = 20 * SECOND;
/** 4 hosts report 100 (of 1000) throughout; the fifth reports 900 from LOADED_FROM_MS on, and is slower then. */
function loadedHosts(): HostModel[] {
  const light = () => LIGHT_LOAD;
  const heavy = (atMs: number) => (atMs >= LOADED_FROM_MS ? HEAVY_LOAD : LIGHT_LOAD);
  return [0, 1, 2, 3].map((i) => host(i, undefined, 1, light)).concat(host(4, during(LOADED_FROM_MS, Infinity, busy), 1, heavy));
}

export const SCENARIOS: readonly Scenario[] = [
  scenario('dead', '1 of 5 hosts refuses every call from 10 s on', 120, fiveHosts(during(10 * SECOND, Infinity, DOWN)), badFrom(10, 120)),
  scenario(
    'slow',
    '1 of 5 hosts answers 10x slower from 20 s on (30 calls in flight at most, more fail)',
    120,
    fiveHosts(during(20 * SECOND, Infinity, slow)),
    { ...badFrom(20, 120), baseline: true },
  ),
  scenario('flapping', '1 of 5 hosts is down 10 s out of every 30 s, from 20 s on, for 10 minutes', 620, fiveHosts(flapping), badFrom(20, 620)),
  scenario('returning', '1 of 5 hosts is down from 20 s to 80 s, then healthy again', 150, fiveHosts(during(20 * SECOND, 80 * SECOND, DOWN)), badFrom(20, 80)),
  scenario('weighted', '4 hosts with capacities 1, 1, 2, 4 and the same weights', 120, [host(0), host(1), host(2, undefined, 2), host(3, undefined, 4)]),
  scenario(
    'loaded',
    `1 of 5 hosts reports load ${HEAVY_LOAD} and answers ${LOADED_SLOWDOWN}x slower from 20 s on, the others report ${LIGHT_LOAD}`,
    120,
    loadedHosts(),
    badFrom(20, 120),
  ),
  scenario('brownout', 'every host fails 40 % of calls from 10 s on', 120, [0, 1, 2, 3, 4].map((i) => host(i, during(10 * SECOND, Infinity, brownout)))),
  // 5 hosts x 20 slots / 10 ms = 10,000 calls/s of capacity: 8,000 is 80 %.
  scenario('many-agents', '50 agents, 80 % utilisation of 5 hosts; 1 host down from 30 s to 90 s', 180, fiveHosts(during(30 * SECOND, 90 * SECOND, DOWN)), {
    ...badFrom(30, 90),
    rate: 8000,
    agents: 50,
  }),
];

export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name);

export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** The same scenario with every host healthy throughout: the baseline of the p99 ratio. */
export function withoutFault(scenario: Scenario): Scenario {
  return { ...scenario, hosts: scenario.hosts.map((h) => ({ ...h, condition: () => HEALTHY })), fault: null, baseline: false };
}
