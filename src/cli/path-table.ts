import Table from "cli-table3";
import { pct, usd } from "../engines/rollout/index.ts";
import type { RouterPath } from "../modules/request-log/index.ts";

/**
 * A router version's paths as a table: the path, the models its tiers call, requests and
 * share, success (successes / judged), errors, cost per request and per success. The monitor,
 * deps and experiments commands print the same one.
 */
export function pathTable(paths: readonly RouterPath[]): string {
  if (!paths.length) return "  (no router requests in the window)";
  const table = new Table({
    head: ["path", "tiers", "requests", "share", "success", "errors", "$/request", "$/success"],
    style: { head: [], border: [] },
  });
  for (const p of paths)
    table.push([
      p.path,
      p.tiers.map((t) => `${t.name}=${t.target ?? "?"}`).join(" > ") || "-",
      p.requests,
      pct(p.share),
      p.successRate === null ? "-" : `${pct(p.successRate)} (${p.successes}/${p.judged})`,
      p.errors,
      p.costPerRequestUsd === null ? "-" : usd(p.costPerRequestUsd),
      p.costPerSuccessUsd === null ? "-" : usd(p.costPerSuccessUsd),
    ]);
  return table.toString();
}
