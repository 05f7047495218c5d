import { Counter, type Registry } from "prom-client";
import type { Resolution } from "../../engines/flags/index.ts";

/** Counts one evaluation; `known`: the flag is defined (else it counts under `(unknown)`). */
export type CountFlagEvaluation = (r: Resolution, known: boolean) => void;

interface Series {
  readonly labels: { flag: string; variant: string; reason: string };
  pending: number;
}

/**
 * modelgov_flag_evaluations_total{flag, variant, reason}: labels come from the flags defined
 * (a key nobody defined is counted as `(unknown)`, so a caller cannot grow the series) and a
 * closed set of reasons; an error counts under variant `(none)` and reason = its error code.
 * OFREP, the API and the gateway's route flags count here.
 *
 * Counting is cheap enough for the gateway's hot path and a bulk evaluation of every flag: a
 * compiled flag returns resolutions built once (one per variant and reason), so each keeps
 * its series (a WeakMap entry: a recompiled flag's new resolutions find the same series by
 * their labels once) and an evaluation adds 1 to a number. The counts go to prom-client when
 * the registry is read (a scrape), not per evaluation (its label hashing cost ~1–2 µs each).
 */
export function registerFlagMetrics(registry: Registry): CountFlagEvaluation {
  const series = new Map<string, Series>();
  const byResolution = new WeakMap<Resolution, Series>();
  new Counter({
    name: "modelgov_flag_evaluations_total",
    help: "Flag evaluations (OFREP, the API and the gateway's route flags), by flag, variant and reason (the error code when one failed)",
    labelNames: ["flag", "variant", "reason"] as const,
    registers: [registry],
    collect() {
      for (const s of series.values())
        if (s.pending > 0) {
          this.inc(s.labels, s.pending);
          s.pending = 0;
        }
    },
  });
  function seriesOf(r: Resolution, known: boolean): Series {
    const flag = known ? r.key : "(unknown)";
    const variant = r.variant ?? "(none)";
    const reason = r.reason === "ERROR" ? r.errorCode : r.reason;
    const id = `${flag}\u0000${variant}\u0000${reason}`;
    let s = series.get(id);
    if (!s) {
      s = { labels: { flag, variant, reason }, pending: 0 };
      series.set(id, s);
    }
    // An error for a key nobody defined is built per call: only a defined flag's are kept.
    if (known) byResolution.set(r, s);
    return s;
  }
  return (r, known) => {
    const s = (known && byResolution.get(r)) || seriesOf(r, known);
    s.pending++;
  };
}
