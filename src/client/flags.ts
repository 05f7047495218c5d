import type { Resolution } from "../engines/flags/index.ts";
import type { Flag, FlagChangeRequest, FlagInputSchema, FlagRevision } from "../modules/flags/index.ts";
import type { Input, Query } from "./types.ts";

type Call = <T>(method: string, path: string, body?: unknown, query?: Query) => Promise<T>;

const f = (key: string, action = "") =>
  `/api/v1/flags/${encodeURIComponent(key)}${action ? `/${action}` : ""}`;

/** A write the approval policy holds for sign-offs answers with the change request (202). */
export const isHeld = (x: unknown): x is FlagChangeRequest =>
  typeof x === "object" && x !== null && "requestedBy" in x && "signoffs" in x;

const c = (id = "", action = "") =>
  `/api/v1/flag-changes${id ? `/${encodeURIComponent(id)}` : ""}${action ? `/${action}` : ""}`;

/** `client.flags`: feature flags (issue 19). Evaluation by SDKs goes through OFREP, not here. */
export function flagsClient(call: Call) {
  return {
    list: () => call<{ items: Flag[] }>("GET", "/api/v1/flags").then((r) => r.items),
    /** The flag now, or as it was at `asOf` (ISO 8601). */
    get: (key: string, asOf?: string) => call<Flag>("GET", f(key), undefined, { asOf }),
    /** Creates or replaces the flag (an identical flag is left as it is), or holds the change for sign-offs. */
    put: (flag: Input<typeof FlagInputSchema>, reason?: string) =>
      call<Flag | FlagChangeRequest>("PUT", f(flag.key), flag, { reason }),
    enable: (key: string, reason?: string) =>
      call<Flag | FlagChangeRequest>("POST", f(key, "enable"), undefined, { reason }),
    disable: (key: string, reason?: string) =>
      call<Flag | FlagChangeRequest>("POST", f(key, "disable"), undefined, { reason }),
    /** Deletes the flag (undefined), or holds the delete for sign-offs. */
    remove: (key: string, reason?: string) =>
      call<FlagChangeRequest | undefined>("DELETE", f(key), undefined, { reason }),
    changes: (query: { key?: string; status?: string } = {}) =>
      call<{ items: FlagChangeRequest[] }>("GET", c(), undefined, query).then((r) => r.items),
    change: (id: string) => call<FlagChangeRequest>("GET", c(id)),
    sign: (id: string, s: { role: string; decision: "approve" | "reject"; comment?: string }) =>
      call<FlagChangeRequest>("POST", c(id, "sign"), s),
    withdraw: (id: string) => call<FlagChangeRequest>("POST", c(id, "withdraw")),
    /** Flags the segment gate refuses as things stand now. */
    violations: () =>
      call<{ items: { key: string; errors: { field: string; reason: string }[] }[] }>(
        "GET",
        "/api/v1/flag-violations",
      ).then((r) => r.items),
    history: (key: string) => call<{ items: FlagRevision[] }>("GET", f(key, "history")).then((r) => r.items),
    evaluate: (key: string, context: Record<string, unknown>) =>
      call<Resolution>("POST", f(key, "evaluate"), { context }),
  };
}
