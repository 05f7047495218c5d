/**
 * Kill switches in force (docs/kill-switches.md), read-only: a version or a provider switched
 * off on every replica. Shown above the pages whose traffic they change (the flags, a model);
 * engaging and releasing stay with the CLI and the API (`modelgov kill ...`).
 */
import type { Client } from "../../../src/client/index.ts";
import { useApi } from "../api.tsx";
import { Time } from "./ui.tsx";

export type KillSwitchView = Awaited<ReturnType<Client["killSwitches"]["list"]>>["items"][number];

/** The engaged switches, polled so a switch pulled while the page is open shows within seconds. */
export function useEngagedKillSwitches() {
  return useApi((c) => c.killSwitches.list({ state: "engaged" }).then((r) => r.items), [], 10_000);
}

/** A banner listing the engaged switches `relevant` keeps (all when not given); nothing when none. */
export function KillSwitchBanner({
  switches,
  relevant,
  what = "traffic",
}: {
  switches: readonly KillSwitchView[] | undefined;
  relevant?: (k: KillSwitchView) => boolean;
  /** What the switches change, in the heading: "traffic", "this model". */
  what?: string;
}) {
  const shown = (switches ?? []).filter((k) => relevant?.(k) ?? true);
  if (!shown.length) return null;
  return (
    <section className="callout bad ks-banner" aria-label="Engaged kill switches">
      <strong>
        {shown.length === 1 ? "A kill switch is" : `${shown.length} kill switches are`} engaged on {what}
      </strong>
      <ul>
        {shown.map((k) => (
          <li key={k.id}>
            <span className="badge badge-bad">{k.scope}</span> <code>{k.target}</code> off: {k.reason}{" "}
            <span className="muted small">
              ({k.engagedBy}, <Time at={k.engagedAt} />, <code>{k.id}</code>)
            </span>
          </li>
        ))}
      </ul>
      <p className="small muted">
        Requests for a switched-off version go down the model's fallback chain, else are refused. Release with{" "}
        <code>modelgov kill release &lt;id&gt; --reason …</code>.
      </p>
    </section>
  );
}
