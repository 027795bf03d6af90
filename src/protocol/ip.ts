/**
 * IPv4 addresses on the wire are a*2^24 + b*2^16 + c*2^8 + d in the 32 bits of
 * an int32, so 128.0.0.0 and above are negative. The store keeps the unsigned
 * value; these helpers are the only place that converts.
 */

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** Dotted quad -> unsigned 32-bit number. Throws on anything else. */
export function ipToUint32(text: string): number {
  if (!isIPv4(text)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** Dotted quad -> the signed int32 the wire carries. */
export function ipToInt32(text: string): number {
  return ipToUint32(text) | 0;
}

/** Wire int32 (or unsigned value) -> dotted quad. */
export function intToIp(value: number): string {
  const u = value >>> 0;
  return `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}`;
}

export function toInt32(value: number): number {
  return value | 0;
}

export function toUint32(value: number): number {
  return value >>> 0;
}
