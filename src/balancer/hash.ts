/**
 * Small, fast 32-bit hashes (MurmurHash3's mixing steps) for the hash ring.
 * Deterministic across processes and machines, so every agent builds the
 * same ring from the same route and sends a key to the same host.
 */

/** MurmurHash3's finaliser: every input bit affects every output bit. */
export function fmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One MurmurHash3 block step: folds the 32-bit word k into the state h. */
function mixWord(h: number, k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x, 0x1b873593);
  const y = h ^ x;
  return (Math.imul((y << 13) | (y >>> 19), 5) + 0xe6546b64) | 0;
}

const SEED = 0x9747b28c;

/** Hash of three 32-bit words (a ring point: ip, port, replica index). */
export function hashWords(a: number, b: number, c: number): number {
  return fmix32(mixWord(mixWord(mixWord(SEED, a), b), c) ^ 12);
}

/** FNV-1a over the UTF-16 code units, finalised for avalanche. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h ^ text.length);
}

const TWO_32 = 4294967296;

/** A request affinity key: safe integers hash by value (no string built), anything else by its text. */
export function hashKey(key: string | number): number {
  if (typeof key === 'string') return hashString(key);
  if (!Number.isSafeInteger(key)) return hashString(String(key));
  const high = Math.floor(key / TWO_32);
  return hashWords(key - high * TWO_32, high, 0x6b6579);
}
