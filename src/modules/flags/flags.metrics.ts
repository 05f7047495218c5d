import { Counter, type Registry } from "prom-client";
import type { Resolution } from "../../engines/flags/index.ts";

/**
 * modelgov_flag_evaluations_total{flag, variant, reason}: labels come from the flags defined
 * (a key nobody defined is counted as `(unknown)`, so a caller cannot grow the series) and a
 * closed set of reasons; an error counts under variant `(none)` and reason = its error code.
 */
export function registerFlagMetrics(registry: Registry) {
  const evaluations = new Counter({
    name: "modelgov_flag_evaluations_total",
    help: "Flag evaluations (OFREP and the API), by flag, variant and reason (the error code when one failed)",
    labelNames: ["flag", "variant", "reason"] as const,
    registers: [registry],
  });
  return (r: Resolution, known: boolean) => {
    evaluations.inc({
      flag: known ? r.key : "(unknown)",
      variant: r.variant ?? "(none)",
      reason: r.reason === "ERROR" ? r.errorCode : r.reason,
    });
  };
}
