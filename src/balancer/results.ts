/** The failure answers of a pick, shared and frozen so picks allocate nothing. */
import { RetCode } from '../protocol/retcode.js';
import type { PickResult } from './types.js';

export const OVERLOAD_RESULT: PickResult = Object.freeze({ retcode: RetCode.OVERLOAD });
export const NOEXIST_RESULT: PickResult = Object.freeze({ retcode: RetCode.NOEXIST });
