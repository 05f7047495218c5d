// Which variants name a model: `model@1.2.0` (a version, a router version included) or
// `model@canary` (an alias). The control plane checks each such variant is servable before a
// flag is written (the release gate). An alias-shaped value is a model reference only when the
// model exists (so `ops@example.com` stays a string); a version-shaped one always is, so a typo
// in the model's name is refused rather than passed.

export interface ModelTarget {
  variant: string;
  model: string;
  /** A semantic version, or an alias. */
  ref: string;
  kind: "version" | "alias";
}

const TARGET = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)@([A-Za-z0-9][A-Za-z0-9.+-]*)$/;
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export function modelTargets(def: { readonly variants: Readonly<Record<string, unknown>> }): ModelTarget[] {
  const out: ModelTarget[] = [];
  for (const [variant, value] of Object.entries(def.variants)) {
    if (typeof value !== "string") continue;
    const m = TARGET.exec(value);
    if (!m) continue;
    out.push({ variant, model: m[1]!, ref: m[2]!, kind: SEMVER.test(m[2]!) ? "version" : "alias" });
  }
  return out;
}
