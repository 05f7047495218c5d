/**
 * The moves a person makes on a retraining task from the console: start training, record an
 * approval or a roll-out the hooks could not, close, dismiss. Each is offered when the task's
 * `next` allows it and the token holds the permission; the server checks both again, and its
 * problem (a justification too short, a role that may not dismiss) is shown as it says it.
 * Registering a candidate and evaluating it are the CLI's (a version file, two run ids).
 */
import { type FormEvent, useEffect, useRef, useState } from "react";
import type { Client } from "../../../src/client/index.ts";
import { messageOf, useSession } from "../api.tsx";
import type { TaskDetail, TaskState } from "../retraining.ts";

type Move = "training" | "approved" | "rolled_out" | "closed" | "dismissed";

interface MoveSpec {
  label: string;
  permission: "retraining:write" | "retraining:dismiss";
  /** What the text field asks for; none: the move takes no text. */
  text?: { label: string; placeholder: string; hint?: string };
  submit: string;
  done: string;
  tone?: "primary" | "danger";
  run: (c: Client, id: string, text: string) => Promise<unknown>;
}

const MOVES: Record<Move, MoveSpec> = {
  training: {
    label: "Start training",
    permission: "retraining:write",
    text: { label: "Note (kept in the audit trail)", placeholder: "Fine-tune on the exported slice" },
    submit: "Start training",
    done: "Training started.",
    tone: "primary",
    run: (c, id, text) => c.retraining.startTraining(id, { note: text }),
  },
  approved: {
    label: "Record the approval",
    permission: "retraining:write",
    submit: "Record the approval",
    done: "Recorded as approved.",
    tone: "primary",
    run: (c, id) => c.retraining.markApproved(id),
  },
  rolled_out: {
    label: "Record the roll-out",
    permission: "retraining:write",
    submit: "Record the roll-out",
    done: "Recorded as rolled out.",
    tone: "primary",
    run: (c, id) => c.retraining.markRolledOut(id),
  },
  closed: {
    label: "Close",
    permission: "retraining:write",
    text: {
      label: "Note (kept in the audit trail)",
      placeholder: "Success rate back at baseline for 7 days",
    },
    submit: "Close the task",
    done: "Closed.",
    tone: "primary",
    run: (c, id, text) => c.retraining.close(id, text),
  },
  dismissed: {
    label: "Dismiss",
    permission: "retraining:dismiss",
    text: {
      label: "Justification (required: why the breach needs no retraining)",
      placeholder: "Seasonal dip: the December baseline runs 8 points lower every year",
      hint: "At least 20 characters; kept with the task and in the audit trail.",
    },
    submit: "Dismiss the task",
    done: "Dismissed.",
    tone: "danger",
    run: (c, id, text) => c.retraining.dismiss(id, text),
  },
};

const ORDER: Move[] = ["training", "approved", "rolled_out", "closed", "dismissed"];

export function RetrainingActions({ task, onDone }: { task: TaskDetail; onDone: () => void }) {
  const { client, can } = useSession();
  const [open, setOpen] = useState<Move | null>(null);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (open) field.current?.focus();
  }, [open]);

  const next = new Set<TaskState>(task.next);
  const offered = ORDER.filter((m) => next.has(m));
  const allowed = offered.filter((m) => can(MOVES[m].permission));
  const barred = offered.filter((m) => !can(MOVES[m].permission));

  const run = async (m: Move) => {
    setBusy(true);
    setError(null);
    try {
      await MOVES[m].run(client, task.id, text.trim());
      setOpen(null);
      setText("");
      setDone(MOVES[m].done);
      onDone();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (open) void run(open);
  };

  if (offered.length === 0)
    return (
      <p className="small muted" role="status">
        {done ?? `The task is ${task.state}: nothing more to do.`}
      </p>
    );
  const spec = open ? MOVES[open] : null;
  return (
    <div className="rt-actions">
      {allowed.length > 0 && (
        <div className="actions">
          {allowed.map((m) => (
            <button
              key={m}
              type="button"
              className={MOVES[m].tone === "danger" ? "danger" : ""}
              aria-expanded={open === m}
              disabled={busy}
              onClick={() => {
                setOpen(open === m ? null : m);
                setError(null);
                setDone(null);
              }}
            >
              {MOVES[m].label}
            </button>
          ))}
        </div>
      )}
      {barred.length > 0 && (
        <p className="small muted">
          {barred.map((m) => MOVES[m].label).join(", ")}: needs <code>{MOVES[barred[0]!].permission}</code>
          {barred.includes("dismissed")
            ? " (admin and stakeholder roles: dismissing accepts a degraded model)"
            : " (admin, engineering)"}
          .
        </p>
      )}
      {next.has("candidate_registered") && (
        <p className="small muted">
          A candidate is registered with <code>retrainedFrom</code> (see below); then{" "}
          <code>modelgov retraining evaluate</code> judges it against production.
        </p>
      )}
      {open && spec && (
        <form className="rt-form panel" onSubmit={submit} aria-label={spec.label}>
          {spec.text ? (
            <label>
              {spec.text.label}
              <textarea
                ref={field}
                maxLength={4000}
                value={text}
                onChange={(e) => setText(e.target.value)}
                placeholder={spec.text.placeholder}
              />
              {spec.text.hint && <span className="small muted">{spec.text.hint}</span>}
            </label>
          ) : (
            <p className="small">
              {open === "approved"
                ? `The server checks that ${task.model}@${task.candidate?.version ?? "the candidate"} has an approval in force.`
                : `The server checks that ${task.model}@${task.candidate?.version ?? "the candidate"} is the production version.`}
            </p>
          )}
          <div className="actions">
            <button type="submit" className={spec.tone ?? ""} disabled={busy}>
              {busy ? "Working…" : spec.submit}
            </button>
            <button type="button" onClick={() => setOpen(null)} disabled={busy}>
              Cancel
            </button>
          </div>
          {error && (
            <p className="state error" role="alert">
              {error}
            </p>
          )}
        </form>
      )}
      <p className="small rt-done" role="status" aria-live="polite">
        {done}
      </p>
    </div>
  );
}
