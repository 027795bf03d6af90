/** The answers of a pick that name no host, shared and frozen so picks allocate nothing. */
import { RetCode } from '../protocol/retcode.js';
import type { PickResult } from './types.js';

export const OVERLOAD_RESULT: PickResult = Object.freeze({ retcode: RetCode.OVERLOAD });
export const NOEXIST_RESULT: PickResult = Object.freeze({ retcode: RetCode.NOEXIST });
/**
 * RouteTable's answer to a request that found its route pending and started
 * its pull: dns's answer is on its way. A NOEXIST to whoever does not wait.
 */
export const QUEUE = Object.freeze({ retcode: RetCode.NOEXIST, queue: true } as const);
export type Queue = typeof QUEUE;

export function isQueue(answer: object): answer is Queue {
  return answer === QUEUE;
}
