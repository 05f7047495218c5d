import { type FormEvent, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import type { Client } from "../../../src/client/index.ts";
import { modelTargets } from "../../../src/engines/flags/targets.ts";
import { useApi } from "../api.tsx";
import { fromLocalInput, toLocalInput } from "../components/audit-time.ts";
import { Breadcrumbs } from "../components/breadcrumbs.tsx";
import { FlagHistory } from "../components/flag-history-panel.tsx";
import { type FlagView, RulesList, TryIt, VariantsTable } from "../components/flag-parts.tsx";
import { KillSwitchBanner, useEngagedKillSwitches } from "../components/kill-switch-banner.tsx";
import { orNone } from "../components/rollout-kit.tsx";
import { Async, Badge, PageHeader, Panel, Table, Time } from "../components/ui.tsx";
import { scheduleState, servingState } from "../flag-rules.ts";
import { type ModelAliases, routeModel, servedVersion } from "../flag-targets.ts";
import "./model-version.css";
import "./flags.css";

const flagPath = (key: string) => `/flags/${encodeURIComponent(key)}`;
const SERVING_TONES: Record<string, string> = {
  rules: "ok",
  disabled: "neutral",
  scheduled: "warn",
  ended: "neutral",
};
const SERVING_WORDS: Record<string, string> = {
  rules: "on",
  disabled: "disabled",
  scheduled: "not yet on",
  ended: "schedule ended",
};

const SCHEDULE_WORDS: Record<string, string> = { scheduled: "not yet on", on: "in force", ended: "ended" };

/**
 * Which flag each model's route defers to: one route read per model a flag could serve (a
 * route's flag names only its own model's versions), none for a flag whose variants name no model.
 */
async function routesDeferring(c: Client, flags: readonly FlagView[]): Promise<Map<string, string>> {
  const models = [...new Set(flags.map(routeModel).filter((m): m is string => m !== null))];
  const out = new Map<string, string>();
  await Promise.all(
    models.map(async (m) => {
      const r = await c.routes.get(m).catch(() => null);
      if (r?.flag) out.set(r.flag, m);
    }),
  );
  return out;
}

function Serving({ flag, at = Date.now() }: { flag: FlagView; at?: number }) {
  const s = servingState(flag, at);
  return <Badge tone={SERVING_TONES[s]}>{SERVING_WORDS[s]!}</Badge>;
}

/** Every flag: its type, whether it is on, its schedule, rules, variants, last change, and the route it decides. */
export function FlagsPage() {
  const kills = useEngagedKillSwitches();
  const state = useApi(async (c) => {
    const flags = await c.flags.list();
    return { flags, routes: await routesDeferring(c, flags) };
  }, []);
  return (
    <div className="mv fl">
      <PageHeader
        title="Flags"
        sub="Feature flags served over OpenFeature (OFREP) and to the gateway's routes: who gets which variant, and since when."
      />
      <KillSwitchBanner switches={kills.data} />
      <Async
        state={state}
        empty={(d) =>
          d.flags.length ? null : (
            <>
              No flag yet: <code>modelgov flags set -f flag.yaml</code>, or <code>flags:</code> in{" "}
              <code>modelgov.yaml</code>
            </>
          )
        }
      >
        {({ flags, routes }) => (
          <Table
            label="Flags"
            head={["Flag", "Type", "Serving", "Schedule", "Rules", "Variants", "Last change", "Route"]}
          >
            {flags.map((f) => {
              const schedule = scheduleState(f.schedule, Date.now());
              const route = routes.get(f.key);
              return (
                <tr key={f.key}>
                  <td>
                    <Link to={flagPath(f.key)}>{f.key}</Link>
                    {f.description && <div className="small muted clamp">{f.description}</div>}
                  </td>
                  <td>{f.type}</td>
                  <td>
                    <Serving flag={f} />
                  </td>
                  <td className="small">
                    {schedule === "always" ? <span className="muted">none</span> : SCHEDULE_WORDS[schedule]}
                  </td>
                  <td className="num">{f.rules.length}</td>
                  <td className="small">{Object.keys(f.variants).join(", ")}</td>
                  <td className="small">
                    {f.updatedBy}, <Time at={f.updatedAt} />
                  </td>
                  <td className="small">
                    {route ? (
                      <Link to={`/models/${encodeURIComponent(route)}`}>{route}</Link>
                    ) : (
                      <span className="muted">–</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </Table>
        )}
      </Async>
    </div>
  );
}

/** The as-of form: a local time in, `?asOf=<ISO>` out; "now" clears it. */
function AsOfForm({ asOf, onPick }: { asOf: string; onPick: (iso: string) => void }) {
  const [when, setWhen] = useState(() => toLocalInput(asOf || new Date().toISOString()));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const iso = fromLocalInput(when);
    if (iso) onPick(iso);
  };
  return (
    <form className="fl-asof" onSubmit={submit} aria-label="The flag as of a time">
      <label>
        As of (your local time)
        <input type="datetime-local" step={1} value={when} onChange={(e) => setWhen(e.target.value)} />
      </label>
      <button type="submit">Show</button>
      {asOf && (
        <button type="button" onClick={() => onPick("")}>
          Now
        </button>
      )}
    </form>
  );
}

/** One flag: what it serves to whom (variants, rules in order, schedule), a try-it box, and its history. */
export function FlagPage() {
  const { key = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const asOf = params.get("asOf") ?? "";
  const kills = useEngagedKillSwitches();
  const state = useApi(
    async (c) => {
      const flag = await orNone(c.flags.get(key, asOf || undefined));
      const models = flag ? [...new Set(modelTargets(flag).map((t) => t.model))] : [];
      const aliases: ModelAliases = new Map(
        await Promise.all(
          models.map(async (m) => [m, (await c.models.get(m).catch(() => null))?.aliases ?? null] as const),
        ),
      );
      return { flag, aliases };
    },
    [key, asOf],
  );
  const pick = (iso: string) => {
    const next = new URLSearchParams(params);
    if (iso) next.set("asOf", iso);
    else next.delete("asOf");
    setParams(next);
  };
  const asOfPath = (at: string) => `${flagPath(key)}?asOf=${encodeURIComponent(at)}`;
  // The versions the variants serve now: a switch on one of them changes what the flag serves.
  const served = new Set(
    state.data?.flag
      ? modelTargets(state.data.flag).flatMap((t) => servedVersion(t, state.data!.aliases) ?? [])
      : [],
  );
  // The as-of view reads the schedule at that time, not now.
  const at = asOf ? Date.parse(asOf) : Date.now();
  return (
    <div className="mv fl">
      <Breadcrumbs trail={[{ to: "/flags", label: "Flags" }]} current={key} />
      <PageHeader
        title={key}
        sub={state.data?.flag?.description || undefined}
        actions={<AsOfForm key={asOf} asOf={asOf} onPick={pick} />}
      />
      <KillSwitchBanner
        switches={kills.data}
        what="what this flag serves"
        relevant={(k) => k.scope === "provider" || served.has(k.target)}
      />
      {asOf && (
        <p className="callout warn" role="status">
          The flag as it was at <Time at={asOf} />
          {state.data?.flag && <> (revision {state.data.flag.revision})</>}.{" "}
          <button type="button" className="link" onClick={() => pick("")}>
            Back to now
          </button>
        </p>
      )}
      <Async
        state={state}
        empty={(d) =>
          d.flag === null ? (
            <>
              No flag named <code>{key}</code>
              {asOf ? " existed then" : ""}. <Link to="/flags">All flags</Link>
            </>
          ) : null
        }
      >
        {({ flag, aliases }) =>
          flag && (
            <>
              <Panel title="Serving">
                <dl className="facts">
                  <dt>{asOf ? "Then" : "Now"}</dt>
                  <dd>
                    <Serving flag={flag} at={at} />{" "}
                    <span className="small muted">
                      {servingState(flag, at) === "rules"
                        ? "the rules below decide"
                        : `everyone gets ${flag.defaultVariant}, the default`}
                    </span>
                  </dd>
                  <dt>Type</dt>
                  <dd>{flag.type}</dd>
                  <dt>Schedule</dt>
                  <dd>
                    {flag.schedule?.onAt || flag.schedule?.offAt ? (
                      <>
                        {flag.schedule.onAt && (
                          <>
                            from <Time at={flag.schedule.onAt} />{" "}
                          </>
                        )}
                        {flag.schedule.offAt && (
                          <>
                            until <Time at={flag.schedule.offAt} />{" "}
                          </>
                        )}
                        <Badge tone="neutral">{SCHEDULE_WORDS[scheduleState(flag.schedule, at)] ?? ""}</Badge>
                      </>
                    ) : (
                      <span className="muted">none: on while enabled</span>
                    )}
                  </dd>
                  <dt>Last change</dt>
                  <dd>
                    revision {flag.revision} by {flag.updatedBy}, <Time at={flag.updatedAt} />
                  </dd>
                </dl>
              </Panel>
              <Panel title="Variants">
                <VariantsTable flag={flag} aliases={aliases} killed={kills.data ?? []} />
              </Panel>
              <Panel title="Targeting">
                <RulesList flag={flag} />
              </Panel>
              {!asOf && (
                <Panel title="Try it">
                  <TryIt flagKey={flag.key} />
                </Panel>
              )}
            </>
          )
        }
      </Async>
      <Panel title="History">
        <FlagHistory flagKey={key} asOfPath={asOfPath} />
      </Panel>
    </div>
  );
}
