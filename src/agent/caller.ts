/** The address the agent names itself by in reports (ReportStatusRequest.caller). */
import { networkInterfaces } from 'node:os';
import { isIPv4 } from '../protocol/ip.js';

/** The first non-internal IPv4 address of this machine, else 127.0.0.1. */
export function defaultCallerIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal && isIPv4(address.address)) return address.address;
    }
  }
  return '127.0.0.1';
}

/** The configured caller, or the default when empty; throws on anything but a dotted IPv4. */
export function resolveCaller(configured: string | undefined): string {
  const text = configured?.trim() ?? '';
  if (text === '') return defaultCallerIp();
  if (!isIPv4(text)) throw new RangeError(`agent caller must be an IPv4 address, got ${JSON.stringify(configured)}`);
  return text;
}
