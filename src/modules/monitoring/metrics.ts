import { Gauge, type Registry } from "prom-client";
import { scrapeRead } from "../../lib/scrape-read.ts";
import type { MonitoringService } from "./monitoring.service.ts";

/**
 * Rule states as gauges, read from the database at scrape time (every replica reports the
 * same, shared state): `modelgov_monitor_rule_state` 0 ok, 1 breaching (a run shorter than
 * the rule's windows), 2 firing; `modelgov_monitor_rule_streak` the run's length. One read
 * per scrape serves both (each gauge fills itself from it: see scrapeRead).
 */
export function registerMonitorMetrics(
  registry: Registry,
  monitoring: Pick<MonitoringService, "ruleStates">,
) {
  const registers = [registry];
  const read = scrapeRead(() => monitoring.ruleStates());
  type State = Awaited<ReturnType<MonitoringService["ruleStates"]>>[number];
  const gauge = (name: string, help: string, value: (s: State) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["model", "version", "rule"] as const,
      registers,
      async collect() {
        const states = await read();
        if (!states) return;
        this.reset();
        for (const s of states) this.set({ model: s.model, version: s.version, rule: s.rule }, value(s));
      },
    });
  gauge(
    "modelgov_monitor_rule_streak",
    "Consecutive breaching windows of a monitoring rule, for the model's production version",
    (s) => s.streak,
  );
  gauge(
    "modelgov_monitor_rule_state",
    "Monitoring rule state for the model's production version: 0 ok, 1 breaching, 2 firing",
    (s) => (s.firing ? 2 : s.streak > 0 ? 1 : 0),
  );
}
