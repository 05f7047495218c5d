// A text classifier small enough to live in a version's parameters and fast enough for the
// gateway's hot path: multinomial logistic regression over hashed word n-grams (the "hashing
// trick" of Vowpal Wabbit and scikit-learn's HashingVectorizer), trained by L-BFGS on the
// L2-penalised log-loss. A router trains it from labelled cases (which tier answered well) and
// stores the model; the model's digest covers the weights.
//
// Features: lower-cased runs of letters and digits; unigrams and bigrams; each n-gram's
// FNV-1a 32-bit hash of its UTF-8 bytes, modulo `buckets`; the counts scaled as log(1 + c),
// then the vector scaled to unit length. Objective: sum over cases of -log p(label) plus
// (l2 / 2) times the squared weights (biases are not penalised); the biases are centred after
// training (adding a constant to every class's bias changes nothing).

export interface HashedLogisticOptions {
  /** Hash buckets (default 2^18). */
  buckets?: number;
  /** 1: unigrams; 2: unigrams and bigrams (default). */
  ngrams?: 1 | 2;
  /** L2 penalty on the weights, on the summed loss's scale (default 1). */
  l2?: number;
  maxIterations?: number;
  /** Stop when the largest gradient component is below this (default 1e-6). */
  tolerance?: number;
}

export interface HashedLogisticModel {
  kind: "hashed-logistic";
  classes: string[];
  buckets: number;
  ngrams: 1 | 2;
  l2: number;
  /** One bias per class. */
  bias: number[];
  /** Bucket -> one weight per class; buckets no training case touched are absent (zero). */
  weights: Record<string, number[]>;
}

export interface TrainingReport {
  iterations: number;
  /** The objective at the end (the summed log-loss plus the penalty). */
  loss: number;
  converged: boolean;
}

export class TrainingError extends Error {}

const WORD = /[\p{L}\p{N}]+/gu;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Folds a string's UTF-8 bytes into an FNV-1a state, without encoding it to a buffer. */
function fold(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate, as TextEncoder writes it
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), FNV_PRIME);
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), FNV_PRIME);
    }
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), FNV_PRIME);
  }
  return h;
}

/** FNV-1a, 32 bits, of a string's UTF-8 bytes. */
export function fnv1a32(s: string): number {
  return fold(FNV_OFFSET, s) >>> 0;
}

/** The text's hashed n-gram vector: bucket -> value, unit length (empty for a text without words). */
export function featurize(text: string, buckets: number, ngrams: 1 | 2): Map<number, number> {
  const words = text.toLowerCase().match(WORD) ?? [];
  const counts = new Map<number, number>();
  const add = (h: number) => {
    const b = (h >>> 0) % buckets;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  };
  // A bigram "a b" continues the FNV state of "a" (FNV has no finalisation): no string is built.
  for (let i = 0; i < words.length; i++) {
    const h = fold(FNV_OFFSET, words[i]!);
    add(h);
    if (ngrams === 2 && i + 1 < words.length) add(fold(Math.imul(h ^ 0x20, FNV_PRIME), words[i + 1]!));
  }
  let norm = 0;
  for (const [b, c] of counts) {
    const v = Math.log1p(c);
    counts.set(b, v);
    norm += v * v;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (const [b, v] of counts) counts.set(b, v / norm);
  return counts;
}

/** Softmax of `z` into `out`, stable. */
function softmax(z: Float64Array, out: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (const x of z) if (x > max) max = x;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    out[k] = Math.exp(z[k]! - max);
    sum += out[k]!;
  }
  for (let k = 0; k < z.length; k++) out[k]! /= sum;
}

/**
 * Minimises f by L-BFGS (10 pairs kept) with a backtracking Armijo line search. `fg` returns
 * the value and writes the gradient. Deterministic: same input, same iterates.
 */
function lbfgs(
  fg: (x: Float64Array, g: Float64Array) => number,
  x: Float64Array,
  maxIterations: number,
  tolerance: number,
): { loss: number; iterations: number; converged: boolean } {
  const n = x.length;
  const m = 10;
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  let g = new Float64Array(n);
  let f = fg(x, g);
  const dot = (a: Float64Array, b: Float64Array) => {
    let t = 0;
    for (let i = 0; i < n; i++) t += a[i]! * b[i]!;
    return t;
  };
  const maxAbs = (a: Float64Array) => {
    let t = 0;
    for (const v of a) if (Math.abs(v) > t) t = Math.abs(v);
    return t;
  };
  const alpha = new Array<number>(m);
  for (let it = 0; it < maxIterations; it++) {
    if (maxAbs(g) < tolerance) return { loss: f, iterations: it, converged: true };
    // Two-loop recursion: d = -H g.
    const d = Float64Array.from(g);
    for (let i = s.length - 1; i >= 0; i--) {
      alpha[i] = rho[i]! * dot(s[i]!, d);
      for (let j = 0; j < n; j++) d[j]! -= alpha[i]! * y[i]![j]!;
    }
    const gamma = s.length
      ? dot(s.at(-1)!, y.at(-1)!) / dot(y.at(-1)!, y.at(-1)!)
      : 1 / Math.max(1, maxAbs(g));
    for (let j = 0; j < n; j++) d[j]! *= gamma;
    for (let i = 0; i < s.length; i++) {
      const beta = rho[i]! * dot(y[i]!, d);
      for (let j = 0; j < n; j++) d[j]! += s[i]![j]! * (alpha[i]! - beta);
    }
    for (let j = 0; j < n; j++) d[j] = -d[j]!;
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = y.length = rho.length = 0;
      for (let j = 0; j < n; j++) d[j] = -g[j]!;
      slope = dot(g, d);
    }
    let step = 1;
    const xNew = new Float64Array(n);
    const gNew = new Float64Array(n);
    let fNew = Number.POSITIVE_INFINITY;
    for (let k = 0; k < 60; k++) {
      for (let j = 0; j < n; j++) xNew[j] = x[j]! + step * d[j]!;
      fNew = fg(xNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNew <= f + 1e-4 * step * slope)) return { loss: f, iterations: it, converged: false };
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      sk[j] = xNew[j]! - x[j]!;
      yk[j] = gNew[j]! - g[j]!;
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12) {
      if (s.length === m) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
    }
    const decrease = f - fNew;
    x.set(xNew);
    g = gNew;
    f = fNew;
    if (decrease <= 1e-14 * Math.max(1, Math.abs(f)))
      return { loss: f, iterations: it + 1, converged: maxAbs(g) < tolerance * 100 };
  }
  return { loss: f, iterations: maxIterations, converged: maxAbs(g) < tolerance };
}

/** Trains a classifier from labelled texts. Classes are the labels seen, sorted. */
export function trainHashedLogistic(
  examples: readonly { text: string; label: string }[],
  opts: HashedLogisticOptions = {},
): { model: HashedLogisticModel; report: TrainingReport } {
  const buckets = opts.buckets ?? 2 ** 18;
  const ngrams = opts.ngrams ?? 2;
  const l2 = opts.l2 ?? 1;
  if (!(Number.isInteger(buckets) && buckets >= 2 && buckets <= 2 ** 24))
    throw new TrainingError("buckets must be a whole number from 2 to 2^24");
  if (!(l2 > 0)) throw new TrainingError("l2 must be positive (an unpenalised fit may not exist)");
  const classes = [...new Set(examples.map((e) => e.label))].sort();
  if (classes.length < 2) throw new TrainingError("training needs cases of at least two labels");
  const K = classes.length;
  const classIndex = new Map(classes.map((c, i) => [c, i]));
  // Compact the buckets the cases touch: D columns instead of 2^18.
  const column = new Map<number, number>();
  const rows = examples.map((e) => {
    const v = featurize(e.text, buckets, ngrams);
    const idx: number[] = [];
    const val: number[] = [];
    for (const [b, x] of v) {
      let c = column.get(b);
      if (c === undefined) {
        c = column.size;
        column.set(b, c);
      }
      idx.push(c);
      val.push(x);
    }
    return { idx, val, y: classIndex.get(e.label)! };
  });
  const D = column.size;
  // Parameters: W (D x K, row-major) then the K biases.
  const x = new Float64Array(D * K + K);
  const z = new Float64Array(K);
  const p = new Float64Array(K);
  const fg = (w: Float64Array, g: Float64Array) => {
    g.fill(0);
    let loss = 0;
    for (const r of rows) {
      for (let k = 0; k < K; k++) z[k] = w[D * K + k]!;
      for (let t = 0; t < r.idx.length; t++) {
        const base = r.idx[t]! * K;
        const v = r.val[t]!;
        for (let k = 0; k < K; k++) z[k]! += w[base + k]! * v;
      }
      softmax(z, p);
      loss -= Math.log(Math.max(p[r.y]!, 1e-300));
      p[r.y]! -= 1;
      for (let t = 0; t < r.idx.length; t++) {
        const base = r.idx[t]! * K;
        const v = r.val[t]!;
        for (let k = 0; k < K; k++) g[base + k]! += p[k]! * v;
      }
      for (let k = 0; k < K; k++) g[D * K + k]! += p[k]!;
    }
    for (let i = 0; i < D * K; i++) {
      loss += 0.5 * l2 * w[i]! * w[i]!;
      g[i]! += l2 * w[i]!;
    }
    return loss;
  };
  const run = lbfgs(fg, x, opts.maxIterations ?? 500, opts.tolerance ?? 1e-6);
  const bias = Array.from(x.subarray(D * K));
  const mean = bias.reduce((a, b) => a + b, 0) / K;
  const weights: Record<string, number[]> = {};
  for (const [b, c] of column) weights[String(b)] = Array.from(x.subarray(c * K, c * K + K));
  return {
    model: {
      kind: "hashed-logistic",
      classes,
      buckets,
      ngrams,
      l2,
      bias: bias.map((v) => v - mean),
      weights,
    },
    report: { iterations: run.iterations, loss: run.loss, converged: run.converged },
  };
}

/** The classes' probabilities for a text, and the most probable class (ties: the first). */
export function predictHashedLogistic(
  model: HashedLogisticModel,
  text: string,
): { label: string; probabilities: Record<string, number> } {
  const K = model.classes.length;
  const z = Float64Array.from(model.bias);
  for (const [b, v] of featurize(text, model.buckets, model.ngrams)) {
    const w = model.weights[String(b)];
    if (w) for (let k = 0; k < K; k++) z[k]! += w[k]! * v;
  }
  const p = new Float64Array(K);
  softmax(z, p);
  let best = 0;
  for (let k = 1; k < K; k++) if (p[k]! > p[best]!) best = k;
  return {
    label: model.classes[best]!,
    probabilities: Object.fromEntries(model.classes.map((c, k) => [c, p[k]!])),
  };
}
