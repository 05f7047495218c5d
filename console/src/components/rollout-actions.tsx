/**
 * An operator's controls over an active rollout: pause and abort (each with a reason), resume,
 * promote (past the current step, or with "full" straight to production). Shown only to those
 * with rollouts:write; the server checks the permission again.
 */
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from "react";
import { messageOf, useSession } from "../api.tsx";
import type { Rollout } from "./rollout-kit.tsx";

type Action = "pause" | "resume" | "promote" | "abort";

const VERB: Record<Action, string> = {
  pause: "Paused",
  resume: "Resumed",
  promote: "Promoted",
  abort: "Aborted",
};

export function RolloutActions({ rollout, onDone }: { rollout: Rollout; onDone: () => void }) {
  const { client, can } = useSession();
  const [open, setOpen] = useState<Action | null>(null);
  const [reason, setReason] = useState("");
  const [full, setFull] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const field = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const opener = useRef<HTMLButtonElement | null>(null);

  // Focus the form's first field when it opens.
  useEffect(() => {
    if (open) field.current?.focus();
  }, [open]);

  const active = rollout.status === "running" || rollout.status === "paused";
  if (!can("rollouts:write") || !active) return null;

  const last = rollout.stepIndex >= rollout.steps - 1;
  const start = (a: Action, button: HTMLButtonElement) => {
    opener.current = button;
    setOpen(a);
    setReason("");
    setFull(false);
    setError(null);
    setDone(null);
  };
  const close = () => {
    setOpen(null);
    setError(null);
    opener.current?.focus();
  };
  const run = async (a: Action) => {
    setBusy(true);
    setError(null);
    try {
      const m = rollout.model;
      if (a === "pause") await client.rollouts.pause(m, reason.trim());
      else if (a === "abort") await client.rollouts.abort(m, reason.trim());
      else if (a === "resume") await client.rollouts.resume(m);
      else await client.rollouts.promote(m, full || last);
      setOpen(null);
      setDone(`${VERB[a]}.`);
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
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") close();
  };
  const button = (a: Action, label: string, cls = "") => (
    <button
      type="button"
      className={cls}
      aria-expanded={a === "resume" ? undefined : open === a}
      disabled={busy}
      onClick={(e) => (a === "resume" ? void run("resume") : start(a, e.currentTarget))}
    >
      {label}
    </button>
  );

  return (
    <div className="re-actions">
      <div className="actions">
        {rollout.status === "running" ? button("pause", "Pause") : button("resume", "Resume", "primary")}
        {button("promote", "Promote")}
        {button("abort", "Abort", "danger")}
      </div>
      {open && (
        <form
          className="re-action-form panel"
          onSubmit={submit}
          onKeyDown={onKey}
          aria-label={`${open} the rollout`}
        >
          {open === "promote" ? (
            <>
              <p className="small">
                {last
                  ? `This is the last step: promoting makes ${rollout.model}@${rollout.candidate} the production version.`
                  : `Promote ${rollout.candidate} past step ${rollout.stepIndex + 1} of ${rollout.steps} now, without waiting for the analysis?`}
              </p>
              {!last && (
                <label className="re-check">
                  <input
                    ref={field}
                    type="checkbox"
                    checked={full}
                    onChange={(e) => setFull(e.target.checked)}
                  />
                  Skip the remaining steps: straight to production
                </label>
              )}
            </>
          ) : (
            <label>
              Reason ({open === "pause" ? "why pause" : "why abort"}: kept in the audit trail)
              <textarea
                ref={field}
                required
                maxLength={2000}
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                placeholder={open === "pause" ? "Investigating the latency alert" : "Wrong build"}
              />
            </label>
          )}
          {open === "abort" && (
            <p className="small muted">
              Aborting ends the rollout: all traffic returns to {rollout.baseline}.
            </p>
          )}
          <div className="actions">
            <button
              type="submit"
              className={open === "abort" ? "danger" : "primary"}
              disabled={busy || (open !== "promote" && reason.trim() === "")}
            >
              {busy
                ? "Working…"
                : open === "promote"
                  ? full || last
                    ? "Promote to production"
                    : "Promote to the next step"
                  : open === "pause"
                    ? "Pause rollout"
                    : "Abort rollout"}
            </button>
            <button type="button" onClick={close} disabled={busy}>
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
      {!open && error && (
        <p className="state error" role="alert">
          {error}
        </p>
      )}
      <p className="muted small re-done" role="status" aria-live="polite">
        {done}
      </p>
    </div>
  );
}
