/**
 * Sticky weighted splits: a subject hashes to one of 10,000 buckets for a model, and the
 * weights carve the buckets into contiguous ranges. The same subject lands in the same
 * bucket every time, so it keeps its version for as long as the weights hold; moving
 * weight from A to B moves only the subjects in the buckets that change hands.
 */

export const BUCKETS = 10_000;

/** FNV-1a, 32 bit: fast, well distributed for short keys, no allocation. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche (murmur3 fmix32): FNV alone leaves low bits weakly mixed for similar keys.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function bucketOf(subject: string, model: string): number {
  return fnv1a(`${model}\u0000${subject}`) % BUCKETS;
}

export interface WeightedArm<T> {
  target: T;
  weight: number;
}

/** Precomputed bucket boundaries for a split; weights need not sum to 100. */
export function compileSplit<T>(arms: readonly WeightedArm<T>[]): {
  pick(bucket: number): T;
  describe: string;
  /** The arms with a weight, in order (what a subject may land on: `/v1/models`). */
  arms: readonly T[];
} {
  const live = arms.filter((a) => a.weight > 0);
  if (live.length === 0) throw new Error("a split needs at least one arm with weight > 0");
  const total = live.reduce((s, a) => s + a.weight, 0);
  const bounds: number[] = [];
  let acc = 0;
  for (const a of live) {
    acc += a.weight;
    bounds.push(Math.round((acc / total) * BUCKETS));
  }
  bounds[bounds.length - 1] = BUCKETS;
  const describe = live.map((a) => Math.round((a.weight / total) * 1000) / 10).join("/");
  return {
    pick(bucket: number): T {
      for (let i = 0; i < bounds.length; i++) if (bucket < bounds[i]!) return live[i]!.target;
      return live[live.length - 1]!.target;
    },
    describe,
    arms: live.map((a) => a.target),
  };
}
