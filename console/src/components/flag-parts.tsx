/**
 * The pieces of a flag's page (docs/flags.md): its variants (a variant naming a model version or
 * alias links to it), its targeting rules in order with rollouts as bars, and a box that
 * evaluates it for a context through the API, as OFREP would.
 */
import { type FormEvent, useId, useState } from "react";
import { Link } from "react-router-dom";
import type { Client } from "../../../src/client/index.ts";
import { type ModelTarget, modelTargets } from "../../../src/engines/flags/targets.ts";
import { messageOf, useSession } from "../api.tsx";
import { conditionText, percent, rolloutShares } from "../flag-rules.ts";
import { type ModelAliases, servedVersion } from "../flag-targets.ts";
import type { KillSwitchView } from "./kill-switch-banner.tsx";
import { Badge, Table } from "./ui.tsx";

export type FlagView = Awaited<ReturnType<Client["flags"]["get"]>>;
type Rule = FlagView["rules"][number];

const enc = encodeURIComponent;
const shown = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** A variant's model: the version page for a version, else the model page and the version the alias holds now. */
function TargetLink({ t, aliases }: { t: ModelTarget; aliases: ModelAliases }) {
  const model = `/models/${enc(t.model)}`;
  if (t.kind === "version")
    return (
      <Link to={`${model}/versions/${enc(t.ref)}`}>
        {t.model}@{t.ref}
      </Link>
    );
  const now = aliases.get(t.model)?.[t.ref];
  return (
    <>
      <Link to={model}>{t.model}</Link> alias <Badge tone="info">{t.ref}</Badge>{" "}
      {now ? (
        <>
          → <Link to={`${model}/versions/${enc(now)}`}>{now}</Link>
        </>
      ) : (
        <span className="muted">(points nowhere now)</span>
      )}
    </>
  );
}

export function VariantsTable({
  flag,
  aliases,
  killed,
}: {
  flag: FlagView;
  aliases: ModelAliases;
  killed: readonly KillSwitchView[];
}) {
  const targets = new Map(modelTargets(flag).map((t) => [t.variant, t]));
  return (
    <Table label="Variants" head={["Variant", "Value", "Model"]}>
      {Object.entries(flag.variants).map(([name, value]) => {
        const t = targets.get(name);
        const served = t && servedVersion(t, aliases);
        const off = killed.find((k) => k.scope === "version" && k.target === served);
        return (
          <tr key={name} data-testid="flag-variant">
            <td>
              <strong>{name}</strong> {name === flag.defaultVariant && <Badge tone="neutral">default</Badge>}
            </td>
            <td>
              <code className="fl-value">{shown(value)}</code>
            </td>
            <td>
              {t ? <TargetLink t={t} aliases={aliases} /> : <span className="muted">–</span>}
              {off && (
                <>
                  {" "}
                  <Badge tone="bad">killed</Badge>
                </>
              )}
            </td>
          </tr>
        );
      })}
    </Table>
  );
}

/** A rollout's slices as one bar, each slice's width its share, with the numbers beside it. */
export function RolloutBar({ rollout }: { rollout: readonly { variant: string; weight: number }[] }) {
  const shares = rolloutShares(rollout);
  return (
    <div className="fl-rollout">
      <div className="fl-bar" aria-hidden="true">
        {shares.map((s, i) => (
          <span
            // biome-ignore lint/suspicious/noArrayIndexKey: a variant may appear in two slices
            key={i}
            className={`fl-slice fl-slice-${i % 4}`}
            style={{ width: `${s.share * 100}%` }}
            title={`${s.variant} ${percent(s.share)}`}
          />
        ))}
      </div>
      <ul className="fl-shares">
        {shares.map((s, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a variant may appear in two slices
          <li key={i}>
            <span className={`fl-dot fl-slice-${i % 4}`} aria-hidden="true" /> <strong>{s.variant}</strong>{" "}
            {percent(s.share)} <span className="muted small">(weight {s.weight})</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The rules in order (the first that holds decides), then what everyone else gets. */
export function RulesList({ flag }: { flag: FlagView }) {
  return (
    <ol className="fl-rules" aria-label="Targeting rules">
      {flag.rules.map((r: Rule, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rules are positional
        <li key={i} data-testid="flag-rule">
          <span className="fl-when">
            {r.when && Object.keys(r.when).length ? (
              <>
                When <span className="fl-cond">{conditionText(r.when)}</span>
              </>
            ) : (
              "Everyone"
            )}
          </span>{" "}
          {r.rollout ? (
            <>
              → split by <code>targetingKey</code>:
              <RolloutBar rollout={r.rollout} />
            </>
          ) : (
            <>
              → <strong>{r.variant}</strong>
            </>
          )}
        </li>
      ))}
      <li className="fl-otherwise">
        {flag.rules.length ? "Otherwise" : "Everyone"} → <strong>{flag.defaultVariant}</strong>{" "}
        <span className="muted small">(the default)</span>
      </li>
    </ol>
  );
}

type Resolution = Awaited<ReturnType<Client["flags"]["evaluate"]>>;

/** Evaluates the flag for a context typed as JSON (POST /flags/{key}/evaluate: what OFREP answers). */
export function TryIt({ flagKey }: { flagKey: string }) {
  const { client, can } = useSession();
  const id = useId();
  const [text, setText] = useState('{ "targetingKey": "user-42", "tenant": "internal" }');
  const [out, setOut] = useState<{ r?: Resolution; error?: string } | null>(null);
  const [busy, setBusy] = useState(false);
  if (!can("flags:evaluate"))
    return <p className="muted small">Evaluating needs the flags:evaluate permission.</p>;
  const run = async (e: FormEvent) => {
    e.preventDefault();
    let context: unknown;
    try {
      context = JSON.parse(text);
    } catch (err) {
      setOut({ error: `The context is not JSON: ${(err as Error).message}` });
      return;
    }
    if (typeof context !== "object" || context === null || Array.isArray(context)) {
      setOut({ error: 'The context is a JSON object: { "targetingKey": "user-42", "tenant": "internal" }' });
      return;
    }
    setBusy(true);
    try {
      setOut({ r: await client.flags.evaluate(flagKey, context as Record<string, unknown>) });
    } catch (err) {
      setOut({ error: messageOf(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="fl-try" onSubmit={run} aria-label="Try the flag">
      <label htmlFor={id}>Evaluation context (JSON)</label>
      <textarea id={id} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} rows={3} />
      <div>
        <button type="submit" className="primary" disabled={busy}>
          Evaluate
        </button>
      </div>
      {out?.error && (
        <p className="form-error" role="alert">
          {out.error}
        </p>
      )}
      {out?.r && (
        <p role="status" data-testid="flag-resolution">
          {out.r.reason === "ERROR" ? (
            <>
              <Badge tone="bad">{out.r.errorCode}</Badge> {out.r.errorDetails}
            </>
          ) : (
            <>
              <strong>{out.r.variant}</strong> = <code>{shown(out.r.value)}</code>{" "}
              <Badge tone="info">{out.r.reason}</Badge>
            </>
          )}
        </p>
      )}
    </form>
  );
}
