/**
 * Seeded randomness for the quality simulator (docs/simulator.md): the same
 * seed gives the same run on every machine, so figures can be compared and
 * tests can assert them.
 */

/** A uniform generator on [0, 1): sfc32, seeded through splitmix32 so nearby seeds give unrelated streams. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  const split = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** The wait until the next event of a Poisson process with `ratePerMs` events per ms. */
export function exponentialGap(random: () => number, ratePerMs: number): number {
  return -Math.log(1 - random()) / ratePerMs;
}

/** A log-normal sample with the given median and shape sigma (Box–Muller). */
export function logNormal(random: () => number, median: number, sigma: number): number {
  const u = 1 - random();
  const v = random();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}
