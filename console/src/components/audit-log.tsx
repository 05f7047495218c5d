/**
 * The audit log, filtered by action, actor, subject and time (the filters live in the URL),
 * newest or oldest first, a page at a time with the API's cursor.
 */
import { useEffect, useId, useRef, useState } from "react";
import { useSearchParams } from "react-router-dom";
import type { Client, Query } from "../../../src/client/index.ts";
import { messageOf, useApi, useSession } from "../api.tsx";
import { viewerZone } from "../time.ts";
import { fromLocalInput, toLocalInput } from "./audit-time.ts";
import { Field } from "./inbox-field.tsx";
import { KeyValues } from "./key-values.tsx";
import { Async, ErrorBox, Table, Time } from "./ui.tsx";

type AuditEvent = Awaited<ReturnType<Client["audit"]["events"]>>["items"][number];

const PAGE = 50;
const TEXT_KEYS = ["action", "actor", "subjectType", "subjectId"] as const;
const TIME_KEYS = ["since", "until"] as const;
type Key = (typeof TEXT_KEYS)[number] | (typeof TIME_KEYS)[number] | "order";
type Filter = Record<Key, string>;

const ACTIONS = [
  "approval.*",
  "approval.requested",
  "approval.signed",
  "approval.approved",
  "approval.rejected",
  "approval.voided",
  "version.*",
  "version.registered",
  "version.status_changed",
  "alias.*",
  "card.revised",
  "evidence.attached",
  "model.*",
  "rollout.*",
  "experiment.*",
  "eval.*",
  "monitor.*",
  "monitor.rule_fired",
  "route.updated",
  "approval_policy.updated",
  "spec.applied",
  "token.*",
  "webhook.*",
];
const SUBJECT_TYPES = [
  "model",
  "model_version",
  "approval_request",
  "approval_policy",
  "registry_policy",
  "spec",
  "monitor",
  "token",
  "webhook",
];

/** URL (ISO times) → the form's values (local times). */
function draftOf(params: URLSearchParams): Filter {
  return {
    action: params.get("action") ?? "",
    actor: params.get("actor") ?? "",
    subjectType: params.get("subjectType") ?? "",
    subjectId: params.get("subjectId") ?? "",
    since: toLocalInput(params.get("since")),
    until: toLocalInput(params.get("until")),
    order: params.get("order") === "asc" ? "asc" : "desc",
  };
}

/** The form's values → the URL, keeping any other page parameters. */
function paramsOf(draft: Filter, base: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(base);
  for (const k of TEXT_KEYS) {
    const v = draft[k].trim();
    if (v) next.set(k, v);
    else next.delete(k);
  }
  for (const k of TIME_KEYS) {
    const v = fromLocalInput(draft[k]);
    if (v) next.set(k, v);
    else next.delete(k);
  }
  if (draft.order === "asc") next.set("order", "asc");
  else next.delete("order");
  return next;
}

const KEYS: Key[] = [...TEXT_KEYS, ...TIME_KEYS, "order"];
/** The filter parameters of a URL as one string: equal strings, equal queries. */
const keyOf = (p: URLSearchParams) => KEYS.map((k) => p.get(k) ?? "").join("\u0000");

export function AuditLog() {
  const [params, setParams] = useSearchParams();
  const [draft, setDraft] = useState<Filter>(() => draftOf(params));
  const ids = useId();
  const key = keyOf(params);
  const paramsRef = useRef(params);
  paramsRef.current = params;
  /** The filters this form last wrote to the URL. */
  const written = useRef(key);

  /** Typing replaces the history entry; a deliberate choice (order, a quick filter, clear) adds one. */
  const commit = (d: Filter, replace = true) => {
    const next = paramsOf(d, paramsRef.current);
    written.current = keyOf(next);
    if (written.current !== keyOf(paramsRef.current)) setParams(next, { replace });
  };
  const commitRef = useRef(commit);
  commitRef.current = commit;
  // Typing waits a moment before it asks the API; the URL then holds the filters (shareable, back button).
  useEffect(() => {
    const t = setTimeout(() => commitRef.current(draft), 350);
    return () => clearTimeout(t);
  }, [draft]);
  // The URL changed from elsewhere (back button, a link): the form follows.
  useEffect(() => {
    if (key === written.current) return;
    written.current = key;
    setDraft(draftOf(paramsRef.current));
  }, [key]);

  const set = (k: Key, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const only = (patch: Partial<Filter>) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    commit(next, false);
  };
  const any = [...TEXT_KEYS, ...TIME_KEYS].some((k) => draft[k]);
  const query: Query = {
    action: params.get("action") ?? undefined,
    actor: params.get("actor") ?? undefined,
    subjectType: params.get("subjectType") ?? undefined,
    subjectId: params.get("subjectId") ?? undefined,
    since: params.get("since") ?? undefined,
    until: params.get("until") ?? undefined,
    order: params.get("order") === "asc" ? "asc" : "desc",
    limit: PAGE,
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <div className="panel-head">
        <h2 id={`${ids}-title`}>Events</h2>
      </div>
      <search>
        <form
          className="filters ia-filters"
          aria-label="Filter audit events"
          onSubmit={(e) => e.preventDefault()}
        >
          <Field label="Action">
            {(id) => (
              <input
                id={id}
                value={draft.action}
                list={`${ids}-actions`}
                placeholder="approval.* or version.registered"
                onChange={(e) => set("action", e.target.value)}
              />
            )}
          </Field>
          <datalist id={`${ids}-actions`}>
            {ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <Field label="Actor">
            {(id) => (
              <input
                id={id}
                value={draft.actor}
                placeholder="token name"
                onChange={(e) => set("actor", e.target.value)}
              />
            )}
          </Field>
          <Field label="Subject type">
            {(id) => (
              <input
                id={id}
                value={draft.subjectType}
                list={`${ids}-types`}
                placeholder="model_version"
                onChange={(e) => set("subjectType", e.target.value)}
              />
            )}
          </Field>
          <datalist id={`${ids}-types`}>
            {SUBJECT_TYPES.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          <Field label="Subject id">
            {(id) => (
              <input
                id={id}
                value={draft.subjectId}
                placeholder="ver_…, apr_…"
                onChange={(e) => set("subjectId", e.target.value)}
              />
            )}
          </Field>
          <Field label="Since">
            {(id) => (
              <input
                id={id}
                type="datetime-local"
                step={1}
                value={draft.since}
                onChange={(e) => set("since", e.target.value)}
              />
            )}
          </Field>
          <Field label="Until">
            {(id) => (
              <input
                id={id}
                type="datetime-local"
                step={1}
                value={draft.until}
                onChange={(e) => set("until", e.target.value)}
              />
            )}
          </Field>
          <Field label="Order">
            {(id) => (
              <select id={id} value={draft.order} onChange={(e) => only({ order: e.target.value })}>
                <option value="desc">newest first</option>
                <option value="asc">oldest first</option>
              </select>
            )}
          </Field>
          {any && (
            <button
              type="button"
              className="link"
              onClick={() =>
                only({ action: "", actor: "", subjectType: "", subjectId: "", since: "", until: "" })
              }
            >
              Clear filters
            </button>
          )}
        </form>
      </search>
      <p className="muted small ia-hint">
        Times are your local time ({viewerZone()}). An action ending in <code>.*</code> matches every action
        under it.
      </p>
      <AuditPages key={key} query={query} filtered={any} onOnly={only} />
    </section>
  );
}

/** The first page from the API, then more pages appended with its cursor. */
function AuditPages({
  query,
  filtered,
  onOnly,
}: {
  query: Query;
  filtered: boolean;
  onOnly: (patch: Partial<Filter>) => void;
}) {
  const { client } = useSession();
  const first = useApi((c) => c.audit.events(query), []);
  const [more, setMore] = useState<{ items: AuditEvent[]; next: string | null } | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | null>(null);
  const next = more ? more.next : (first.data?.nextCursor ?? null);

  const loadMore = async () => {
    if (!next) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const page = await client.audit.events({ ...query, cursor: next });
      setMore((m) => ({ items: [...(m?.items ?? []), ...page.items], next: page.nextCursor }));
    } catch (err) {
      setMoreError(messageOf(err));
    } finally {
      setLoadingMore(false);
    }
  };
  const reload = () => {
    setMore(null);
    first.reload();
  };

  return (
    <Async
      state={{ ...first, reload }}
      empty={(d) =>
        d.items.length === 0
          ? filtered
            ? "No audit event matches these filters."
            : "The audit log is empty."
          : null
      }
    >
      {(d) => {
        const items = [...d.items, ...(more?.items ?? [])];
        return (
          <>
            <div className="ia-log-bar">
              <span className="muted small">
                {items.length} event{items.length === 1 ? "" : "s"} shown{next ? ", more available" : ""}
              </span>
              <button type="button" onClick={reload} disabled={first.loading}>
                Refresh
              </button>
            </div>
            <Table
              label="Audit events"
              head={["#", "Time", "Actor", "Action", "Subject", "Reason", "Record"]}
            >
              {items.map((e) => (
                <EventRow key={e.id} e={e} onOnly={onOnly} />
              ))}
            </Table>
            {moreError && <ErrorBox error={moreError} retry={() => void loadMore()} />}
            {next && (
              <div className="ia-more">
                <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
                  {loadingMore ? "Loading…" : "Load more events"}
                </button>
              </div>
            )}
          </>
        );
      }}
    </Async>
  );
}

function EventRow({ e, onOnly }: { e: AuditEvent; onOnly: (patch: Partial<Filter>) => void }) {
  return (
    <tr>
      <td className="num">{e.position}</td>
      <td className="ia-nowrap">
        <Time at={e.at} />
      </td>
      <td>
        <button
          type="button"
          className="link"
          aria-label={`Only events by ${e.actor}`}
          onClick={() => onOnly({ actor: e.actor })}
        >
          {e.actor}
        </button>
      </td>
      <td>
        <code>{e.action}</code>
      </td>
      <td>
        <span className="muted small">{e.subjectType}</span>
        <br />
        <button
          type="button"
          className="link ia-mono"
          aria-label={`Only events about ${e.subjectType} ${e.subjectId}`}
          onClick={() => onOnly({ subjectType: e.subjectType, subjectId: e.subjectId })}
        >
          {e.subjectId}
        </button>
      </td>
      <td className="ia-reason">{e.reason || <span className="muted">–</span>}</td>
      <td>
        <details className="ia-details ia-record">
          <summary>
            Show<span className="ia-sr"> the record of event {e.position}</span>
          </summary>
          <dl className="ia-kv small">
            <dt>Event</dt>
            <dd>
              <code>{e.id}</code>
            </dd>
            {e.requestId && (
              <>
                <dt>Request</dt>
                <dd>
                  <code>{e.requestId}</code>
                </dd>
              </>
            )}
            <dt>Hash</dt>
            <dd>
              <code className="ia-hash">{e.hash}</code>
            </dd>
            <dt>Previous</dt>
            <dd>
              <code className="ia-hash">{e.prevHash}</code>
            </dd>
          </dl>
          {e.before != null && (
            <>
              <h4 className="ia-sub">Before</h4>
              <KeyValues value={e.before} label="Before" />
            </>
          )}
          {e.after != null && (
            <>
              <h4 className="ia-sub">After</h4>
              <KeyValues value={e.after} label="After" />
            </>
          )}
        </details>
      </td>
    </tr>
  );
}
