/** Return codes carried in GetHostResponse.retcode and ReportRequest.retcode. */
export const RetCode = {
  SUCC: 0,
  OVERLOAD: 1,
  SYSTEM_ERROR: 2,
  NOEXIST: 3,
} as const;

export type RetCode = (typeof RetCode)[keyof typeof RetCode];

const names = new Map<number, string>(Object.entries(RetCode).map(([k, v]) => [v, k]));

export function retCodeName(code: number): string {
  return names.get(code) ?? `UNKNOWN(${code})`;
}
