/**
 * A small seeded PRNG so bootstrap intervals are reproducible: the same seed gives the same
 * interval on every machine and every Node version (Math.random cannot be seeded).
 * xoshiro128** (Blackman & Vigna, 2018), its state filled from the seed by splitmix32.
 */

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

/** xoshiro128** over an explicit 128-bit state; returns unsigned 32-bit integers. */
export function xoshiro128StarStar(state: readonly [number, number, number, number]): () => number {
  let [a, b, c, d] = state.map((x) => x >>> 0) as [number, number, number, number];
  if ((a | b | c | d) === 0) throw new RangeError("state must not be all zero");
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
}

/** splitmix32: spreads one 32-bit seed over the four state words (never all zero). */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A generator of floats in [0, 1) determined by an integer seed. */
export function seededRandom(seed: number): () => number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const mix = splitmix32(seed);
  let state: [number, number, number, number] = [mix(), mix(), mix(), mix()];
  while ((state[0] | state[1] | state[2] | state[3]) === 0) state = [mix(), mix(), mix(), mix()];
  const next = xoshiro128StarStar(state);
  return () => next() / 4294967296;
}
