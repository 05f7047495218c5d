/**
 * From modelgov's traffic state (percent shares, possibly fractional) to the integer weights a
 * cluster route takes. Pure: plain data in, plain data out.
 */

/** A version's share of served traffic, in percent (0–100). */
export interface Share {
  version: string;
  pct: number;
}

/**
 * What the gateway serves, as shares per version: the split when there is one, else all of it
 * to the production version. Blue-green mirrors traffic (shadow) and serves the candidate
 * nothing until the switch, so mirroring never reaches the cluster: the switch is the
 * production alias moving, which takes the route from 0 to 100 in one apply.
 */
export function servedShares(split: { version: string; weight: number }[] | null, production: string | null) {
  if (split?.some((a) => a.weight > 0)) {
    const sum = split.reduce((s, a) => s + a.weight, 0);
    // The gateway picks arms in proportion to their weights: the same proportions here.
    return split.map((a) => ({ version: a.version, pct: (a.weight / sum) * 100 }));
  }
  return production ? [{ version: production, pct: 100 }] : [];
}

/**
 * Integer weights summing exactly to `total`, by largest remainder (Hamilton): each share gets
 * the floor of its exact quota, the units left over go one each to the largest remainders
 * (ties: the order given). Two guarantees on top, because a canary that rounds to nothing is
 * not a canary: a positive share never gets 0 (it takes one unit from the largest weight), and
 * a zero share always gets 0. `keys` lists every backend to write, in the order for ties.
 */
export function integerWeights(shares: Share[], keys: string[], total: number): Map<string, number> {
  const pct = new Map<string, number>();
  for (const s of shares) pct.set(s.version, (pct.get(s.version) ?? 0) + Math.max(0, s.pct));
  const sum = keys.reduce((s, k) => s + (pct.get(k) ?? 0), 0);
  const out = new Map<string, number>(keys.map((k) => [k, 0]));
  if (sum <= 0) return out;
  const quotas = keys.map((k, i) => ({ k, i, exact: ((pct.get(k) ?? 0) / sum) * total }));
  let left = total;
  for (const q of quotas) {
    const f = Math.floor(q.exact + 1e-9);
    out.set(q.k, f);
    left -= f;
  }
  const byRemainder = [...quotas].sort((a, b) => {
    const ra = a.exact - Math.floor(a.exact + 1e-9);
    const rb = b.exact - Math.floor(b.exact + 1e-9);
    return rb - ra || a.i - b.i;
  });
  for (const q of byRemainder) {
    if (left <= 0) break;
    if (q.exact <= 0) continue;
    out.set(q.k, out.get(q.k)! + 1);
    left--;
  }
  for (const q of quotas) {
    if (q.exact <= 0 || out.get(q.k)! > 0) continue;
    const largest = [...out.entries()].reduce((m, e) => (e[1] > m[1] ? e : m));
    if (largest[1] <= 1) continue; // total smaller than the number of live shares: nothing to take
    out.set(largest[0], largest[1] - 1);
    out.set(q.k, 1);
  }
  return out;
}
