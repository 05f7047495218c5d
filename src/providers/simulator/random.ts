/**
 * Seeded randomness for the simulator: the same seed and request id give the same latency,
 * error and quality draws, so tests and demos are reproducible.
 */

/** FNV-1a, 32 bits: spreads a seed and a request id over the PRNG's state. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, and good enough for simulation (not for cryptography). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The 95th percentile of the standard normal distribution. */
const Z95 = 1.6448536269514722;

/**
 * A latency draw from the log-normal distribution whose median is p50 and whose 95th
 * percentile is p95: mu = ln p50, sigma = ln(p95/p50) / z0.95 (Box–Muller for the normal).
 */
export function logNormalLatency(p50: number, p95: number, rand: () => number): number {
  // Both draws are taken either way, so a call's later draws do not depend on the latency settings.
  const u1 = 1 - rand();
  const u2 = rand();
  if (p50 <= 0) return 0;
  const sigma = p95 > p50 ? Math.log(p95 / p50) / Z95 : 0;
  if (sigma === 0) return p50;
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.exp(Math.log(p50) + sigma * z);
}
