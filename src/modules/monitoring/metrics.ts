import { Gauge, type Registry } from "prom-client";
import type { MonitoringService } from "./monitoring.service.ts";

/**
 * Rule states as gauges, read from the database at scrape time (every replica reports the
 * same, shared state): `modelgov_monitor_rule_state` 0 ok, 1 breaching (a run shorter than
 * the rule's windows), 2 firing; `modelgov_monitor_rule_streak` the run's length.
 */
export function registerMonitorMetrics(
  registry: Registry,
  monitoring: Pick<MonitoringService, "ruleStates">,
) {
  const registers = [registry];
  const streak = new Gauge({
    name: "modelgov_monitor_rule_streak",
    help: "Consecutive breaching windows of a monitoring rule, for the model's production version",
    labelNames: ["model", "version", "rule"] as const,
    registers,
  });
  new Gauge({
    name: "modelgov_monitor_rule_state",
    help: "Monitoring rule state for the model's production version: 0 ok, 1 breaching, 2 firing",
    labelNames: ["model", "version", "rule"] as const,
    registers,
    async collect() {
      this.reset();
      streak.reset();
      for (const s of await monitoring.ruleStates()) {
        const labels = { model: s.model, version: s.version, rule: s.rule };
        this.set(labels, s.firing ? 2 : s.streak > 0 ? 1 : 0);
        streak.set(labels, s.streak);
      }
    },
  });
}
