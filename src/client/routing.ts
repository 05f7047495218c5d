import type { EngageSchema, KillSwitch } from "../modules/kill-switches/index.ts";
import type { Version } from "../modules/registry/index.ts";
import type { CalibrateSchema, CalibrationSummary, TrainSchema } from "../modules/routers/index.ts";
import type { Input, Query } from "./types.ts";

type Call = <T>(method: string, path: string, body?: unknown, query?: Query) => Promise<T>;

const enc = encodeURIComponent;
const v = (model: string, version: string) => `/api/v1/models/${enc(model)}/versions/${enc(version)}`;

/** `client.routers`: calibrating and training router versions (issue 18). */
export function routersClient(call: Call) {
  return {
    /** A new version of a two-tier router with the cheapest threshold meeting a target on a suite. */
    calibrate: (model: string, version: string, body: Input<typeof CalibrateSchema>) =>
      call<{ version: Version; calibration: CalibrationSummary }>(
        "POST",
        `${v(model, version)}/calibrate`,
        body,
      ),
    /** A new trained router version from the tiers' runs of a suite (optionally calibrated), or from feedback. */
    train: (model: string, body: Input<typeof TrainSchema>) =>
      call<{
        version: Version;
        training: {
          source: "suite" | "feedback";
          cases: number;
          labels: Record<string, number>;
          /** From feedback: the window read, the requests read by source, those skipped and why. */
          window?: { since: string; until: string };
          read?: Record<string, number>;
          skipped?: { reason: string; requests: number; why: string }[];
          capped?: boolean;
          iterations: number;
          loss: number;
          converged: boolean;
        };
        calibration: CalibrationSummary | null;
      }>("POST", `/api/v1/models/${enc(model)}/router/train`, body),
  };
}

/** `client.killSwitches`: a version or a provider out of service on every replica (issue 19). */
export function killSwitchesClient(call: Call) {
  return {
    /** Newest first; `state: "engaged"` for the switches in force. */
    list: (q: { state?: "engaged" | "released" | "all"; limit?: number } = {}) =>
      call<{ items: KillSwitch[] }>("GET", "/api/v1/kill-switches", undefined, q),
    /** Switches a version (`model@1.2.0`) or a provider off on every replica. */
    engage: (body: Input<typeof EngageSchema>) => call<KillSwitch>("POST", "/api/v1/kill-switches", body),
    release: (id: string, reason: string) =>
      call<KillSwitch>("DELETE", `/api/v1/kill-switches/${enc(id)}`, { reason }),
  };
}
