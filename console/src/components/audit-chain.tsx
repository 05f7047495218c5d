/** The hash chain's verification, as the server computes it (GET /audit/verify). */
import { useApi } from "../api.tsx";
import { Badge, Panel } from "./ui.tsx";

const REASONS: Record<string, string> = {
  position_gap: "an event is missing",
  prev_hash_mismatch: "an event does not link to the one before it",
  hash_mismatch: "an event's content does not match its hash",
  head_mismatch: "the recorded chain head does not match the events",
  checkpoint_missing: "a signed checkpoint covers events that are gone",
  checkpoint_mismatch: "a signed checkpoint does not match the chain",
  bad_signature: "a checkpoint's signature does not hold",
};

const short = (h: string) => (h.length > 16 ? `${h.slice(0, 16)}…` : h);

export function AuditChain() {
  const v = useApi((c) => c.audit.verify(), []);
  const d = v.data;
  return (
    <Panel
      title="Hash chain"
      aside={
        <button type="button" onClick={v.reload} disabled={v.loading}>
          {v.loading ? "Verifying…" : "Verify again"}
        </button>
      }
    >
      <div
        data-testid="chain-status"
        className={`ia-chain ${d ? (d.ok ? "ia-chain-ok" : "ia-chain-bad") : ""}`}
        aria-live="polite"
      >
        {!d ? (
          v.error ? (
            <span className="ia-chain-error">Could not check the chain: {v.error}</span>
          ) : (
            <span className="muted">Checking the chain…</span>
          )
        ) : d.ok ? (
          <>
            <Badge tone="ok">verified</Badge>{" "}
            <span>
              <strong>The chain verifies.</strong> {d.checked} events read; the head is position{" "}
              {d.head.position} (<code title={d.head.hash}>{short(d.head.hash)}</code>).{" "}
              {d.checkpoints.checked} signed checkpoint{d.checkpoints.checked === 1 ? "" : "s"} held
              {d.checkpoints.latest != null ? `, the latest at position ${d.checkpoints.latest}` : ""}.
            </span>
          </>
        ) : (
          <>
            <Badge tone="bad">broken</Badge>{" "}
            <span>
              <strong>
                The chain is broken
                {d.firstBroken ? ` at position ${d.firstBroken.position}` : ""}
              </strong>
              {d.firstBroken
                ? `: ${REASONS[d.firstBroken.reason] ?? d.firstBroken.reason}${d.firstBroken.detail ? ` (${d.firstBroken.detail})` : ""}.`
                : "."}{" "}
              Events up to position {d.head.position} still link ({d.checked} read).
              {d.firstBroken?.eventId && (
                <>
                  {" "}
                  Event <code>{d.firstBroken.eventId}</code>.
                </>
              )}
            </span>
          </>
        )}
      </div>
      {v.error && d && <p className="state error">Could not check again: {v.error}</p>}
    </Panel>
  );
}
