/** Small shared pieces: every page looks and behaves the same (loading, empty, error states). */
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { formatDateTime } from "../time.ts";

export function PageHeader({
  title,
  sub,
  actions,
}: {
  title: ReactNode;
  sub?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {sub && <p className="muted">{sub}</p>}
      </div>
      {actions && <div className="actions">{actions}</div>}
    </header>
  );
}

export function Panel({
  title,
  children,
  aside,
}: {
  title?: ReactNode;
  children: ReactNode;
  aside?: ReactNode;
}) {
  return (
    <section className="panel">
      {(title || aside) && (
        <div className="panel-head">
          {title && <h2>{title}</h2>}
          {aside}
        </div>
      )}
      {children}
    </section>
  );
}

const TONE: Record<string, string> = {
  production: "ok",
  approved: "ok",
  promoted: "ok",
  completed: "ok",
  verified: "ok",
  passed: "ok",
  canary: "info",
  running: "info",
  pending: "warn",
  paused: "warn",
  development: "neutral",
  deprecated: "neutral",
  retired: "neutral",
  voided: "neutral",
  cancelled: "neutral",
  rejected: "bad",
  rolled_back: "bad",
  aborted: "bad",
  failed: "bad",
  broken: "bad",
};

export function Badge({ children, tone }: { children: string; tone?: string }) {
  return (
    <span className={`badge badge-${tone ?? TONE[children] ?? "neutral"}`}>
      {children.replaceAll("_", " ")}
    </span>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="state" role="status" aria-live="polite">
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

export function ErrorBox({ error, retry }: { error: string; retry?: () => void }) {
  return (
    <div className="state error" role="alert">
      <strong>Something went wrong.</strong> {error}{" "}
      {retry && (
        <button type="button" className="link" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Renders loading / error / empty, else the children with the data. */
export function Async<T>({
  state,
  empty,
  children,
}: {
  state: { data: T | undefined; error: string | null; loading: boolean; reload: () => void };
  empty?: (d: T) => ReactNode | null;
  children: (d: T) => ReactNode;
}) {
  if (state.data === undefined) {
    if (state.error) return <ErrorBox error={state.error} retry={state.reload} />;
    return <Loading />;
  }
  const e = empty?.(state.data);
  return (
    <>
      {state.error && <ErrorBox error={state.error} retry={state.reload} />}
      {e ? <Empty>{e}</Empty> : children(state.data)}
    </>
  );
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">–</span>;
  return (
    <time dateTime={at} title={at}>
      {formatDateTime(at)}
    </time>
  );
}

export const pct = (x: number | null | undefined, digits = 1) =>
  x == null ? "–" : `${(x * 100).toFixed(digits)}%`;

export function VersionLink({ model, version }: { model: string; version: string }) {
  return (
    <Link to={`/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`}>
      {model}@{version}
    </Link>
  );
}

/** A table that scrolls sideways on a phone instead of squeezing its columns. */
export function Table({ head, children, label }: { head: ReactNode[]; children: ReactNode; label: string }) {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {head.map((h, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a fixed header row
              <th key={i} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
