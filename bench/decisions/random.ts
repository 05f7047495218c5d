// Seeded random draws for the decision simulation: uniform (xoshiro128**), normal, Poisson,
// binomial and multinomial. Large counts use the normal approximation with a continuity
// correction, which at the means drawn here (hundreds to tens of thousands) is accurate to
// far better than the benchmark's run-to-run noise.

export interface Random {
  uniform(): number;
  normal(): number;
  poisson(mean: number): number;
  binomial(n: number, p: number): number;
  /** Splits n over categories with the given probabilities (summing to at most 1). */
  multinomial(n: number, probs: readonly number[]): number[];
  /** The same, visiting only the categories that got a count. */
  multinomialEach(n: number, probs: readonly number[], visit: (i: number, k: number) => void): void;
}

function splitmix(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRandom(seed: number): Random {
  const init = splitmix(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init() || 1;
  const next = () => {
    const result = Math.imul(((Math.imul(b, 5) << 7) | (Math.imul(b, 5) >>> 25)) >>> 0, 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = ((d << 11) | (d >>> 21)) >>> 0;
    return result;
  };
  const uniform = () => (next() + 0.5) / 4294967296;
  let spare: number | null = null;
  const normal = () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const th = 2 * Math.PI * uniform();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
  const poisson = (mean: number): number => {
    if (mean <= 0) return 0;
    if (mean < 30) {
      // Inversion: walk the cdf.
      let k = 0;
      let p = Math.exp(-mean);
      let cdf = p;
      const u = uniform();
      while (u > cdf && k < 1000) {
        k++;
        p *= mean / k;
        cdf += p;
      }
      return k;
    }
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal()));
  };
  const binomial = (n: number, p: number): number => {
    if (n <= 0 || p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - binomial(n, 1 - p);
    const mean = n * p;
    if (mean < 25) {
      // Inversion on the binomial pmf.
      const q = 1 - p;
      let k = 0;
      let pk = q ** n;
      if (pk === 0) return Math.min(n, poisson(mean));
      let cdf = pk;
      const u = uniform();
      const r = p / q;
      while (u > cdf && k < n) {
        pk *= (r * (n - k)) / (k + 1);
        k++;
        cdf += pk;
      }
      return k;
    }
    const x = Math.round(mean + Math.sqrt(mean * (1 - p)) * normal());
    return Math.min(n, Math.max(0, x));
  };
  // Per probability vector: cumulative sums and the range of non-zero categories.
  const prepared = new WeakMap<readonly number[], { cum: Float64Array; first: number; last: number }>();
  const prepare = (probs: readonly number[]) => {
    let p = prepared.get(probs);
    if (!p) {
      const cum = new Float64Array(probs.length);
      let acc = 0;
      let first = -1;
      let last = -1;
      for (let i = 0; i < probs.length; i++) {
        const x = Math.max(0, probs[i]!);
        if (x > 0) {
          if (first < 0) first = i;
          last = i;
        }
        acc += x;
        cum[i] = acc;
      }
      p = { cum, first, last };
      prepared.set(probs, p);
    }
    return p;
  };
  const multinomialEach = (
    n: number,
    probs: readonly number[],
    visit: (i: number, k: number) => void,
  ): void => {
    const { cum, first, last } = prepare(probs);
    if (first < 0 || n <= 0) return;
    if (n < 200) {
      // A few draws: one by one, by binary search on the cumulative sums.
      const mass = cum[cum.length - 1]!;
      for (let k = 0; k < n; k++) {
        const u = uniform();
        if (u >= mass) continue; // beyond the listed categories
        let lo = first;
        let hi = last;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cum[mid]! > u) hi = mid;
          else lo = mid + 1;
        }
        visit(lo, 1);
      }
      return;
    }
    let left = n;
    let mass = 1;
    for (let i = first; i <= last && left > 0; i++) {
      const p = probs[i]!;
      if (p <= 0) continue;
      const k = i === last && mass - p < 1e-9 ? left : binomial(left, Math.min(1, p / mass));
      if (k > 0) visit(i, k);
      left -= k;
      mass -= p;
      if (mass <= 0) break;
    }
  };
  const multinomial = (n: number, probs: readonly number[]): number[] => {
    const out = new Array<number>(probs.length).fill(0);
    multinomialEach(n, probs, (i, k) => {
      out[i]! += k;
    });
    return out;
  };
  return { uniform, normal, poisson, binomial, multinomial, multinomialEach };
}
