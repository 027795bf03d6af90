/**
 * V8's young generation starts at 1 MB per semi-space and, under a steady
 * allocation rate, doubles up to 16 MB: 30 MB more resident memory per
 * isolate for garbage that lives one request. A growth factor of 1 keeps it
 * at its start size, which the agent's short-lived per-request garbage needs
 * no more than (docs/agent.md, "Memory"; figures in BENCHMARKS.md). V8 reads
 * this flag whenever it would grow the space, so setting it once the process
 * runs takes effect, in every isolate of the process. Only `lars agent` sets
 * it: in `lars up` the other services share the process and keep V8's default.
 */
import { setFlagsFromString } from 'node:v8';

export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
