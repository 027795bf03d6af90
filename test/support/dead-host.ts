/**
 * The simulator's `dead` scenario through a real agent over UDP
 * (docs/simulator.md): getHost at a fixed rate, each call reported at once,
 * failed when the agent named the dead host and successful (10 ms) otherwise.
 * Shared by test/agent/dead-host.test.ts and bench/deadhost.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Host, LarsClient } from '../../src/client/lars-client.js';
import { RetCode } from '../../src/protocol/retcode.js';

export interface DeadHostOptions {
  modid: number;
  cmdid: number;
  dead: Host;
  /** Calls per second, paced against the start time. */
  rate: number;
  calls: number;
  /** Called about once a second with the calls so far. */
  onProgress?: (done: number, toDead: number) => void;
}

export interface DeadHostRun {
  calls: number;
  toDead: number;
  /** getHost answers that named no host. */
  noHost: number;
  seconds: number;
}

const HEALTHY_MS = 10;
const REFUSED_MS = 1;

export async function driveDeadHost(client: LarsClient, { modid, cmdid, dead, rate, calls, onProgress }: DeadHostOptions): Promise<DeadHostRun> {
  const start = performance.now();
  let toDead = 0;
  let noHost = 0;
  let nextProgress = start + 1000;
  for (let i = 0; i < calls; i++) {
    const due = start + (i * 1000) / rate;
    const ahead = due - performance.now();
    if (ahead >= 1) await sleep(ahead);
    const answer = await client.getHost(modid, cmdid);
    if (answer.retcode !== RetCode.SUCC) {
      noHost++;
      continue;
    }
    const isDead = answer.host.ip === dead.ip && answer.host.port === dead.port;
    if (isDead) toDead++;
    client.report(modid, cmdid, answer.host, isDead ? RetCode.SYSTEM_ERROR : RetCode.SUCC, { durationMs: isDead ? REFUSED_MS : HEALTHY_MS });
    if (onProgress !== undefined && performance.now() >= nextProgress) {
      onProgress(i + 1, toDead);
      nextProgress += 1000;
    }
  }
  return { calls, toDead, noHost, seconds: (performance.now() - start) / 1000 };
}
