/**
 * A model's monitor alerts: the audit log's `monitor.rule_fired` and `monitor.rule_resolved`
 * events about the model, newest first, each with its rule and the reason the monitor gave.
 */
import { Link } from "react-router-dom";
import type { Client } from "../../../src/client/index.ts";
import { useApi, useSession } from "../api.tsx";
import type { MonitorRuleView } from "../monitor-series.ts";
import { Async, Badge, Panel, Time } from "./ui.tsx";

type AuditEvent = Awaited<ReturnType<Client["audit"]["events"]>>["items"][number];

const LIMIT = 50;

/**
 * The rule an alert names, in its words: a fired event carries them, a resolved one only the
 * rule's name, whose words the monitor's status gives (a rule since removed keeps its name).
 */
function ruleOf(e: AuditEvent, rules: readonly Pick<MonitorRuleView, "name" | "text">[]): string | null {
  const after = e.after as { rule?: unknown; text?: unknown } | null;
  if (typeof after?.text === "string") return after.text;
  if (typeof after?.rule !== "string") return null;
  const name = after.rule;
  return rules.find((r) => r.name === name)?.text ?? name;
}

export function MonitorAlerts({
  model,
  rules,
  everyMs,
}: {
  model: string;
  rules: readonly MonitorRuleView[];
  everyMs: number;
}) {
  const query = { subjectType: "model", subjectId: model, action: "monitor.*", order: "desc" as const };
  const { can } = useSession();
  // Alerts are audit events: a token without audit:read sees the rules' states, not the log.
  const readable = can("audit:read");
  const state = useApi(
    (c) => (readable ? c.audit.events({ ...query, limit: LIMIT }) : Promise.resolve(null)),
    [model, readable],
    everyMs,
  );
  const all = `/audit?${new URLSearchParams({ subjectType: "model", subjectId: model, action: "monitor.*" })}`;
  return (
    <Panel
      title="Alerts"
      aside={
        <Link className="small" to={all}>
          In the audit log
        </Link>
      }
    >
      <Async
        state={state}
        empty={(d) =>
          d === null ? (
            <>Alerts are audit events: this token may not read the audit log.</>
          ) : d.items.length === 0 ? (
            <>No alert yet: a rule that fires, or resolves after firing, is listed here.</>
          ) : null
        }
      >
        {(d) =>
          d && (
            <>
              <ul className="mo-alerts" aria-label="Alerts">
                {d.items.map((e) => {
                  const fired = e.action === "monitor.rule_fired";
                  return (
                    <li key={e.id} className={fired ? "mo-alert fired" : "mo-alert"}>
                      <div>
                        <Badge tone={fired ? "bad" : "ok"}>{fired ? "fired" : "resolved"}</Badge>{" "}
                        <strong>{ruleOf(e, rules) ?? e.action}</strong>{" "}
                        <span className="muted small">
                          <Time at={e.at} />
                        </span>
                      </div>
                      {e.reason && <p className="small mo-reason">{e.reason}</p>}
                    </li>
                  );
                })}
              </ul>
              {d.nextCursor && (
                <p className="muted small">
                  The latest {LIMIT}; the rest are in <Link to={all}>the audit log</Link>.
                </p>
              )}
            </>
          )
        }
      </Async>
    </Panel>
  );
}
