/**
 * The evidence behind an approval request, loaded when the signer opens it: the version's
 * attached evidence (benchmark, fairness) and its model card. Everything shown is the API's.
 */
import Markdown from "react-markdown";
import type { EvidenceView } from "../../../src/client/index.ts";
import { STANDARD_SECTIONS } from "../../../src/client/index.ts";
import { useApi } from "../api.tsx";
import { KeyValues } from "./key-values.tsx";
import { Async, Badge, Time } from "./ui.tsx";

/** The evidence route also returns the gates' verdict and the run behind it. */
type Evidence = EvidenceView & { runId?: string | null; details?: Record<string, unknown> | null };

/** The standard sections, in the card's order, as the API keys them. */
const SECTIONS = STANDARD_SECTIONS.map((x) => [x.key, x.title] as const);

/** Only web addresses become links: a report URI such as s3://… or a ticket id stays text. */
function Uri({ uri }: { uri: string }) {
  return /^https?:\/\//i.test(uri) ? (
    <a href={uri} target="_blank" rel="noreferrer noopener">
      {uri}
    </a>
  ) : (
    <code>{uri}</code>
  );
}

export function verdict(passed: boolean | null): { text: string; tone: string } {
  if (passed === null) return { text: "no verdict", tone: "neutral" };
  return passed ? { text: "passed", tone: "ok" } : { text: "failed", tone: "bad" };
}

/**
 * Who vouches for a piece of evidence: modelgov's own evaluation run (computed), or the person
 * who attached the report (attested). Policies may refuse attested reports.
 */
export function Vouched({ e }: { e: Pick<EvidenceView, "provenance" | "attachedBy"> }) {
  return e.provenance === "computed" ? (
    <Badge tone="ok">computed by an evaluation run</Badge>
  ) : (
    <Badge tone="warn">{`attested by ${e.attachedBy}`}</Badge>
  );
}

export function InboxEvidence({
  model,
  version,
  bound,
}: {
  model: string;
  version: string;
  /** The evidence ids the request is bound to (by content hash). */
  bound: string[];
}) {
  const evidence = useApi(
    (c) => c.approvals.evidence(model, version) as Promise<Evidence[]>,
    [model, version],
  );
  return (
    <Async
      state={evidence}
      empty={(d) =>
        d.length === 0 ? "No benchmark or fairness evidence is attached to this version." : null
      }
    >
      {(d) => (
        <ul className="ia-list" aria-label={`Evidence for ${model}@${version}`}>
          {d.map((e) => {
            const v = verdict(e.passed);
            return (
              <li key={e.id} className="ia-item">
                <div className="ia-item-head">
                  <strong>{e.kind}</strong>
                  <Badge tone={v.tone}>{v.text}</Badge>
                  <Vouched e={e} />
                  {bound.includes(e.id) ? (
                    <Badge tone="info">bound to this request</Badge>
                  ) : (
                    <Badge tone="warn">not bound to this request</Badge>
                  )}
                </div>
                {e.summary && <p className="ia-text">{e.summary}</p>}
                <dl className="ia-kv small">
                  <dt>Report</dt>
                  <dd>
                    <Uri uri={e.uri} />
                  </dd>
                  <dt>Content hash</dt>
                  <dd>
                    <code className="ia-hash">{e.contentHash}</code>
                  </dd>
                  <dt>Attached</dt>
                  <dd>
                    {e.attachedBy}, <Time at={e.attachedAt} />
                  </dd>
                  {e.runId && (
                    <>
                      <dt>Evaluation run</dt>
                      <dd>
                        <code>{e.runId}</code>
                      </dd>
                    </>
                  )}
                </dl>
                {e.details && Object.keys(e.details).length > 0 && (
                  <details className="ia-details">
                    <summary>Gate verdict details</summary>
                    <KeyValues value={e.details} label="Gate verdict details" />
                  </details>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Async>
  );
}

export function InboxCard({
  model,
  version,
  cardHash,
}: {
  model: string;
  version: string;
  /** The card revision's hash the request was made on. */
  cardHash: string | null;
}) {
  const card = useApi((c) => c.cards.get(model, version), [model, version]);
  return (
    <Async state={card}>
      {(d) => (
        <div className="ia-card">
          <dl className="ia-kv small">
            <dt>Revision</dt>
            <dd>
              {d.revision} by {d.createdBy}, <Time at={d.createdAt} /> ({d.source})
            </dd>
            <dt>Content hash</dt>
            <dd>
              <code className="ia-hash">{d.contentHash}</code>
              {cardHash && cardHash !== d.contentHash && (
                <div className="ia-note ia-note-warn">
                  The request was made on another revision (<code className="ia-hash">{cardHash}</code>).
                </div>
              )}
            </dd>
            <dt>Required sections</dt>
            <dd>
              {d.validation.complete ? (
                <Badge tone="ok">complete</Badge>
              ) : (
                <>
                  <Badge tone="bad">incomplete</Badge>{" "}
                  {d.validation.missing.map((m) => `${m.title} (${m.reason})`).join(", ")}
                </>
              )}
            </dd>
          </dl>
          <section
            className="markdown ia-card-body"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
            tabIndex={0}
            aria-label={`Model card of ${model}@${version}`}
          >
            {d.content.title && <h3>{d.content.title}</h3>}
            {SECTIONS.filter(([k]) => d.content.sections[k as keyof typeof d.content.sections]).map(
              ([k, title]) => (
                <section key={k}>
                  <h4>{title}</h4>
                  <Markdown>{d.content.sections[k as keyof typeof d.content.sections]}</Markdown>
                </section>
              ),
            )}
            {d.content.extraSections.map((s, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: headings may repeat; the order is the card's
              <section key={i}>
                <h4>{s.heading}</h4>
                <Markdown>{s.body}</Markdown>
              </section>
            ))}
          </section>
        </div>
      )}
    </Async>
  );
}
