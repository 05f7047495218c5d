/**
 * A version's model card as the API keeps it: its Hugging Face front matter, the standard
 * sections in order (rendered Markdown, raw HTML never rendered), any extra sections, the
 * validation that gates approval, and every archived revision.
 */
import { useSearchParams } from "react-router-dom";
import { ApiError, type CardRevisionView, STANDARD_SECTIONS } from "../../../src/client/index.ts";
import { useApi } from "../api.tsx";
import { formatDate } from "../time.ts";
import { CardMarkdown } from "./card-markdown.tsx";
import { KeyValues } from "./key-values.tsx";
import { Async, Badge, Panel, Table, Time } from "./ui.tsx";

/** Display titles of the standard sections, in the order a card is read. */
/** The standard sections, in the card's order, as the API keys them. */
const SECTIONS = STANDARD_SECTIONS.map((x) => [x.key, x.title] as const);

interface ModelIndexEntry {
  name?: string;
  results?: {
    task?: { type?: string; name?: string };
    dataset?: { name?: string; type?: string; split?: string };
    metrics?: { type?: string; name?: string; value?: unknown }[];
  }[];
}

/** A front-matter value: a list of words as one line, nested settings as key-value rows. */
const show = (k: string, v: unknown) =>
  Array.isArray(v) && v.every((x) => typeof x !== "object") ? (
    v.join(", ")
  ) : typeof v === "object" && v !== null ? (
    <KeyValues value={v} label={`Metadata ${k}`} />
  ) : (
    String(v)
  );

function Metadata({ metadata }: { metadata: Record<string, unknown> }) {
  const entries = Object.entries(metadata).filter(([k]) => k !== "model-index");
  const index = Array.isArray(metadata["model-index"]) ? (metadata["model-index"] as ModelIndexEntry[]) : [];
  const results = index.flatMap((m) =>
    (m.results ?? []).flatMap((r) =>
      (r.metrics ?? []).map((x) => ({ model: m.name ?? "", task: r.task, dataset: r.dataset, metric: x })),
    ),
  );
  if (entries.length === 0 && results.length === 0) return null;
  return (
    <div className="card-section">
      <h3>Metadata</h3>
      {entries.length > 0 && (
        <dl className="facts">
          {entries.map(([k, v]) => (
            <div key={k} style={{ display: "contents" }}>
              <dt>{k}</dt>
              <dd>{show(k, v)}</dd>
            </div>
          ))}
        </dl>
      )}
      {results.length > 0 && (
        <>
          <p className="subhead">Reported results (model-index)</p>
          <Table label="Model-index results" head={["Model", "Task", "Dataset", "Metric", "Value"]}>
            {results.map((r, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows of one fixed document
              <tr key={i}>
                <td>{r.model}</td>
                <td>{r.task?.name ?? r.task?.type ?? "–"}</td>
                <td>
                  {r.dataset?.name ?? r.dataset?.type ?? "–"}
                  {r.dataset?.split && <span className="muted small"> ({r.dataset.split})</span>}
                </td>
                <td>{r.metric.name ?? r.metric.type ?? "–"}</td>
                <td className="num">
                  {r.metric.value === undefined
                    ? "–"
                    : typeof r.metric.value === "object"
                      ? JSON.stringify(r.metric.value)
                      : String(r.metric.value)}
                </td>
              </tr>
            ))}
          </Table>
        </>
      )}
    </div>
  );
}

function Validation({ v }: { v: CardRevisionView["validation"] }) {
  if (v.complete)
    return (
      <div className="callout ok">
        <strong>Complete.</strong> Every required section ({v.required.length}) is filled in.
      </div>
    );
  return (
    <div className="callout bad" role="note">
      <strong>Incomplete: this card blocks approval.</strong>
      <p>
        Missing:{" "}
        {v.missing.map((m, i) => (
          <span key={m.section}>
            {i > 0 && ", "}
            {m.title} <span className="muted">({m.reason})</span>
          </span>
        ))}
      </p>
    </div>
  );
}

export function CardPanel({
  model,
  version,
  changes = 0,
}: {
  model: string;
  version: string;
  /** Bumped when something elsewhere on the page changed this version's card. */
  changes?: number;
}) {
  const [params, setParams] = useSearchParams();
  const wanted = params.get("cardRevision");
  const revision = wanted && /^\d+$/.test(wanted) ? Number(wanted) : undefined;
  const revisions = useApi((c) => c.cards.revisions(model, version), [model, version, changes]);
  const card = useApi(
    (c) =>
      c.cards
        .get(model, version, revision)
        .catch((e) =>
          e instanceof ApiError && e.status === 404 && revision === undefined ? null : Promise.reject(e),
        ),
    [model, version, revision, changes],
  );
  const pick = (r: string) => {
    const next = new URLSearchParams(params);
    if (r) next.set("cardRevision", r);
    else next.delete("cardRevision");
    setParams(next, { replace: true });
  };
  const list = [...(revisions.data ?? [])].reverse();
  return (
    <Panel
      title="Model card"
      aside={
        list.length > 1 && (
          <label>
            Revision
            <select value={wanted ?? ""} onChange={(e) => pick(e.target.value)}>
              <option value="">latest (r{list[0]?.revision})</option>
              {list.map((r) => (
                <option key={r.id} value={String(r.revision)}>
                  r{r.revision} · {r.source} · {formatDate(r.createdAt)}
                </option>
              ))}
            </select>
          </label>
        )
      }
    >
      <Async
        state={card}
        empty={(c) =>
          c === null ? `No model card yet: modelgov card import ${model} ${version} -f README.md` : null
        }
      >
        {(c) =>
          c && (
            <>
              <p className="muted small">
                Revision {c.revision}
                {revision === undefined && " (latest)"} · from {c.source} · by {c.createdBy} ·{" "}
                <Time at={c.createdAt} /> ·{" "}
                <span className="mono" title={c.contentHash}>
                  {c.contentHash.slice(0, 19)}…
                </span>
              </p>
              <Validation v={c.validation} />
              {c.content.title && <h3 className="card-title">{c.content.title}</h3>}
              <Metadata metadata={c.content.metadata} />
              {SECTIONS.map(([key, title]) => {
                const body = (c.content.sections as Record<string, string | undefined>)[key];
                const missing = c.validation.missing.find((m) => m.section === key);
                if (body === undefined && !missing) return null;
                return (
                  <section className="card-section" key={key} aria-label={title}>
                    <h3>
                      {title} {missing && <Badge tone="bad">{`missing: ${missing.reason}`}</Badge>}
                    </h3>
                    {body?.trim() ? (
                      <CardMarkdown source={body} label={title} />
                    ) : (
                      <p className="muted">Not written.</p>
                    )}
                  </section>
                );
              })}
              {c.content.extraSections.map((s, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: sections keep their order
                <section className="card-section" key={i} aria-label={s.heading}>
                  <h3>{s.heading}</h3>
                  <CardMarkdown source={s.body} label={s.heading} />
                </section>
              ))}
            </>
          )
        }
      </Async>
    </Panel>
  );
}
