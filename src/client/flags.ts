import type { Resolution } from "../engines/flags/index.ts";
import type { Flag, FlagInputSchema, FlagRevision } from "../modules/flags/index.ts";
import type { Input, Query } from "./types.ts";

type Call = <T>(method: string, path: string, body?: unknown, query?: Query) => Promise<T>;

const f = (key: string, action = "") =>
  `/api/v1/flags/${encodeURIComponent(key)}${action ? `/${action}` : ""}`;

/** `client.flags`: feature flags (issue 19). Evaluation by SDKs goes through OFREP, not here. */
export function flagsClient(call: Call) {
  return {
    list: () => call<{ items: Flag[] }>("GET", "/api/v1/flags").then((r) => r.items),
    /** The flag now, or as it was at `asOf` (ISO 8601). */
    get: (key: string, asOf?: string) => call<Flag>("GET", f(key), undefined, { asOf }),
    /** Creates or replaces the flag (an identical flag is left as it is). */
    put: (flag: Input<typeof FlagInputSchema>) => call<Flag>("PUT", f(flag.key), flag),
    enable: (key: string) => call<Flag>("POST", f(key, "enable")),
    disable: (key: string) => call<Flag>("POST", f(key, "disable")),
    remove: (key: string) => call<void>("DELETE", f(key)),
    history: (key: string) => call<{ items: FlagRevision[] }>("GET", f(key, "history")).then((r) => r.items),
    evaluate: (key: string, context: Record<string, unknown>) =>
      call<Resolution>("POST", f(key, "evaluate"), { context }),
  };
}
