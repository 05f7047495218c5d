import type { ReleaseGate } from "../engines/policy/gates.ts";
import type {
  ApprovalListQuerySchema,
  ApprovalPolicyWriteSchema,
  EvidenceCreateSchema,
  SignSchema,
} from "../modules/approvals/index.ts";
import type {
  ChainedEvent as AuditEventView,
  AuditQuerySchema,
  CheckpointOutcome,
  VerifyResult,
} from "../modules/audit/index.ts";
import type { ComputedView, SeriesQuerySchema, SeriesView } from "../modules/bias-drift/index.ts";
import type { CardContentSchema, CardValidation } from "../modules/cards/index.ts";
import type { Dependents } from "../modules/dependents/index.ts";
import type { EvalCasesQuerySchema, EvalListQuerySchema, EvalStartSchema } from "../modules/evals/index.ts";
import type {
  ExperimentApiView,
  ExperimentCreateInput,
  ExperimentResultsView,
} from "../modules/experiments/index.ts";
import type { RouteConfigSchema } from "../modules/gateway/index.ts";
import type { Token, TokenCreateSchema } from "../modules/identity/index.ts";
import type { MonitorConfig, MonitorConfigSchema, MonitorStatus } from "../modules/monitoring/index.ts";
import type {
  Model,
  ModelCreateSchema,
  ModelPatchSchema,
  ModelQuerySchema,
  RecommendQuerySchema,
  RegistryPolicySchema,
  Status,
  Version,
  VersionCreateSchema,
  VersionPatchSchema,
  VersionQuerySchema,
} from "../modules/registry/index.ts";
import type {
  DatasetQuerySchema,
  EvaluateSchema,
  Opened,
  OpenSchema,
  StartTrainingSchema,
  TaskDetail,
  TaskQuerySchema,
  TaskView,
  Verdict,
} from "../modules/retraining/index.ts";
import type {
  RolloutApiView,
  RolloutStartSchema,
  RolloutVerdictView,
  ShadowReportView,
} from "../modules/rollouts/index.ts";
import type { TrafficTargetSchema, TrafficTargetView } from "../modules/traffic/index.ts";
import type {
  Delivery,
  DeliveryQuerySchema,
  Webhook,
  WebhookCreated,
  WebhookCreateSchema,
} from "../modules/webhooks/index.ts";
import { flagsClient } from "./flags.ts";
import { killSwitchesClient, routersClient } from "./routing.ts";
import type {
  AliasMove,
  ApprovalRequestView,
  ApprovalRule,
  AsOfView,
  CardRevisionView,
  ClientOptions,
  EvalCaseView,
  EvalComparisonView,
  EvalRunView,
  EvidenceView,
  Input,
  Page,
  PlanItem,
  Query,
  QueryInput,
  RegistryPolicy,
  RouteConfigView,
  TokenCreated,
  WhoAmI,
} from "./types.ts";
/** An error answer of the API: the problem+json document, kept whole. */
import { ApiError } from "./types.ts";

export * from "./types.ts";

const enc = encodeURIComponent;

export function createClient(opts: ClientOptions) {
  const base = opts.baseUrl.replace(/\/+$/, "");
  const doFetch = opts.fetch ?? ((input: string, init?: RequestInit) => fetch(input, init));

  async function call<T>(
    method: string,
    path: string,
    body?: unknown,
    query?: Query,
    raw?: { contentType: string },
  ): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") qs.set(k, String(v));
    const headers: Record<string, string> = { accept: "application/json" };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (body !== undefined) headers["content-type"] = raw?.contentType ?? "application/json";
    const res = await doFetch(`${base}${path}${qs.size ? `?${qs}` : ""}`, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? String(body) : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      let problem: ApiError["problem"];
      try {
        problem = JSON.parse(text);
      } catch {
        problem = { detail: text || res.statusText };
      }
      throw new ApiError(res.status, problem);
    }
    if (res.status === 204) return undefined as T;
    // One JSON document (application/json, +json); JSON Lines (application/jsonl) stays text.
    return (/json\s*(;|$)/.test(res.headers.get("content-type") ?? "") ? JSON.parse(text) : text) as T;
  }

  /** A streamed answer: the response itself once it is known to be a success (else the ApiError). */
  async function stream(path: string, query?: Query): Promise<Response> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") qs.set(k, String(v));
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const res = await doFetch(`${base}${path}${qs.size ? `?${qs}` : ""}`, { method: "GET", headers });
    if (!res.ok) {
      const text = await res.text();
      let problem: ApiError["problem"];
      try {
        problem = JSON.parse(text);
      } catch {
        problem = { detail: text || res.statusText };
      }
      throw new ApiError(res.status, problem);
    }
    return res;
  }

  const v = (model: string, version: string) => `/api/v1/models/${enc(model)}/versions/${enc(version)}`;
  const rt = (id: string, action = "") => `/api/v1/retraining/${enc(id)}${action ? `/${action}` : ""}`;

  return {
    health: () => call<{ status: string; version: string }>("GET", "/healthz"),
    models: {
      list: (q: QueryInput<typeof ModelQuerySchema> = {}) =>
        call<Page<Model>>("GET", "/api/v1/models", undefined, q),
      get: (name: string) => call<Model>("GET", `/api/v1/models/${enc(name)}`),
      create: (m: Input<typeof ModelCreateSchema>) => call<Model>("POST", "/api/v1/models", m),
      update: (name: string, p: Input<typeof ModelPatchSchema>) =>
        call<Model>("PATCH", `/api/v1/models/${enc(name)}`, p),
      state: (name: string, at: string) =>
        call<{
          model: string;
          at: string;
          production: string | null;
          aliases: Record<string, string>;
          versions: { version: string; status: Status }[];
        }>("GET", `/api/v1/models/${enc(name)}/state`, undefined, { at }),
    },
    versions: {
      list: (q: QueryInput<typeof VersionQuerySchema> = {}) =>
        call<Page<Version>>("GET", "/api/v1/versions", undefined, q),
      get: (model: string, version: string) => call<Version>("GET", v(model, version)),
      register: (model: string, body: Input<typeof VersionCreateSchema>) =>
        call<Version>("POST", `/api/v1/models/${enc(model)}/versions`, body),
      update: (model: string, version: string, p: Input<typeof VersionPatchSchema>) =>
        call<Version>("PATCH", v(model, version), p),
      setStatus: (model: string, version: string, status: Status, reason = "") =>
        call<Version>("POST", `${v(model, version)}/status`, { status, reason }),
      history: (model: string, version: string) =>
        call<{ from: Status | null; to: Status; reason: string; actor: string; at: string }[]>(
          "GET",
          `${v(model, version)}/history`,
        ),
    },
    aliases: {
      set: (model: string, alias: string, version: string, reason = "") =>
        call<Version>("PUT", `/api/v1/models/${enc(model)}/aliases/${enc(alias)}`, { version, reason }),
      remove: (model: string, alias: string, reason = "") =>
        call<void>("DELETE", `/api/v1/models/${enc(model)}/aliases/${enc(alias)}`, undefined, { reason }),
      history: (model: string, alias?: string) =>
        call<AliasMove[]>("GET", `/api/v1/models/${enc(model)}/aliases/history`, undefined, { alias }),
    },
    cards: {
      get: (model: string, version: string, revision?: number) =>
        call<CardRevisionView>("GET", `${v(model, version)}/card`, undefined, { revision }),
      put: (model: string, version: string, content: Input<typeof CardContentSchema>) =>
        call<CardRevisionView>("PUT", `${v(model, version)}/card`, content),
      revisions: (model: string, version: string) =>
        call<Omit<CardRevisionView, "content" | "validation" | "model" | "version">[]>(
          "GET",
          `${v(model, version)}/card/revisions`,
        ),
      validate: (model: string, version: string) =>
        call<CardValidation & { revision: number | null }>("GET", `${v(model, version)}/card/validation`),
      importHuggingFace: (model: string, version: string, markdown: string) =>
        call<CardRevisionView>("POST", `${v(model, version)}/card/import`, markdown, undefined, {
          contentType: "text/markdown",
        }),
      exportHuggingFace: (model: string, version: string, revision?: number) =>
        call<string>("GET", `${v(model, version)}/card/export`, undefined, { revision }),
    },
    recommend: (q: QueryInput<typeof RecommendQuerySchema>) =>
      call<{
        useCase: string;
        metric: string;
        order: string;
        items: { rank: number; value: number; serving: boolean; version: Version }[];
      }>("GET", "/api/v1/recommend", undefined, q),
    policy: {
      get: () => call<RegistryPolicy>("GET", "/api/v1/registry/policy"),
      put: (p: Input<typeof RegistryPolicySchema>) =>
        call<RegistryPolicy>("PUT", "/api/v1/registry/policy", p),
    },
    webhooks: {
      create: (w: Input<typeof WebhookCreateSchema>) => call<WebhookCreated>("POST", "/api/v1/webhooks", w),
      list: () => call<Webhook[]>("GET", "/api/v1/webhooks"),
      disable: (id: string) => call<Webhook>("POST", `/api/v1/webhooks/${enc(id)}/disable`),
      deliveries: (id: string, q: QueryInput<typeof DeliveryQuerySchema> = {}) =>
        call<Delivery[]>("GET", `/api/v1/webhooks/${enc(id)}/deliveries`, undefined, q),
      retry: (id: string, deliveryId: string) =>
        call<Delivery>("POST", `/api/v1/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/retry`),
    },
    approvals: {
      policy: () => call<{ rules: ApprovalRule[]; gates: ReleaseGate[] }>("GET", "/api/v1/approvals/policy"),
      /** Gates left out keep the gates in force; removing a rule or gate needs `allowRemovals`. */
      setPolicy: (
        p: Input<typeof ApprovalPolicyWriteSchema>,
        opts: { dryRun?: boolean; allowRemovals?: boolean } = {},
      ) =>
        call<{
          dryRun: boolean;
          changes: { kind: "rule" | "gate"; name: string; change: "added" | "removed" | "changed" }[];
          policy: { rules: ApprovalRule[]; gates: ReleaseGate[] };
        }>("PUT", "/api/v1/approvals/policy", p, {
          ...(opts.dryRun ? { dryRun: "true" } : {}),
          ...(opts.allowRemovals ? { allowRemovals: "true" } : {}),
        }),
      requirements: (model: string, version: string) =>
        call<ApprovalRequestView["requirements"]>("GET", `${v(model, version)}/approval-requirements`),
      request: (model: string, version: string, summary: string, evidenceRefs: string[] = []) =>
        call<ApprovalRequestView>("POST", `${v(model, version)}/approvals`, { summary, evidenceRefs }),
      sign: (id: string, s: Input<typeof SignSchema>) =>
        call<ApprovalRequestView>("POST", `/api/v1/approvals/${enc(id)}/signoffs`, s),
      get: (id: string) => call<ApprovalRequestView>("GET", `/api/v1/approvals/${enc(id)}`),
      list: (q: QueryInput<typeof ApprovalListQuerySchema> = {}) =>
        call<ApprovalRequestView[]>("GET", "/api/v1/approvals", undefined, q),
      inbox: () => call<(ApprovalRequestView & { canSignAs: string[] })[]>("GET", "/api/v1/approvals/inbox"),
      attachEvidence: (model: string, version: string, e: Input<typeof EvidenceCreateSchema>) =>
        call<EvidenceView>("POST", `${v(model, version)}/evidence`, e),
      evidence: (model: string, version: string) =>
        call<EvidenceView[]>("GET", `${v(model, version)}/evidence`),
      asOf: (model: string, at: string) =>
        call<AsOfView>("GET", `/api/v1/models/${enc(model)}/as-of`, undefined, { at }),
    },
    routes: {
      get: (model: string) => call<RouteConfigView>("GET", `/api/v1/models/${enc(model)}/route`),
      set: (model: string, cfg: Input<typeof RouteConfigSchema>) =>
        call<RouteConfigView>("PUT", `/api/v1/models/${enc(model)}/route`, { prices: {}, ...cfg }),
    },
    apply: (spec: unknown, dryRun = false) =>
      call<{ dryRun: boolean; applied: boolean; changes: PlanItem[]; specHash: string }>(
        "POST",
        "/api/v1/apply",
        { spec, dryRun },
      ),
    tokens: {
      create: (t: Input<typeof TokenCreateSchema>) => call<TokenCreated>("POST", "/api/v1/tokens", t),
      list: () => call<Token[]>("GET", "/api/v1/tokens"),
      revoke: (id: string) => call<Token>("POST", `/api/v1/tokens/${enc(id)}/revoke`),
    },
    whoami: () => call<WhoAmI>("GET", "/api/v1/whoami"),
    /** The same client acting as the holder of another token. */
    withToken: (token: string) => createClient({ ...opts, token }),
    /** Who called the model in the window (15m, 24h, 7d), per client and version. */
    dependents: (model: string, window?: string) =>
      call<Dependents>("GET", `/api/v1/models/${enc(model)}/dependents`, undefined, { window }),
    rollouts: {
      start: (
        model: string,
        version: string,
        plan?: Input<typeof RolloutStartSchema>["plan"],
        mode: Input<typeof RolloutStartSchema>["mode"] = "canary",
      ) => call<RolloutApiView>("POST", `/api/v1/models/${enc(model)}/rollouts`, { version, plan, mode }),
      /** The active rollout, or the last one, with its decisions (newest first). */
      status: (model: string) => call<RolloutApiView>("GET", `/api/v1/models/${enc(model)}/rollout`),
      /** promote, hold or rollback, with the reasons: of the candidate's latest rollout, else the current one. */
      verdict: (model: string, candidate?: string) =>
        call<RolloutVerdictView>("GET", `/api/v1/models/${enc(model)}/rollout/verdict`, undefined, {
          candidate,
        }),
      pause: (model: string, reason?: string) =>
        call<RolloutApiView>("POST", `/api/v1/models/${enc(model)}/rollout/pause`, { reason }),
      resume: (model: string) =>
        call<RolloutApiView>("POST", `/api/v1/models/${enc(model)}/rollout/resume`, {}),
      promote: (model: string, full = false) =>
        call<RolloutApiView>("POST", `/api/v1/models/${enc(model)}/rollout/promote`, { full }),
      abort: (model: string, reason?: string) =>
        call<RolloutApiView>("POST", `/api/v1/models/${enc(model)}/rollout/abort`, { reason }),
      /** All traffic back to the previous production version at once. */
      rollback: (model: string, reason?: string) =>
        call<{ model: string; rollout: RolloutApiView | null }>(
          "POST",
          `/api/v1/models/${enc(model)}/rollback`,
          {
            reason,
          },
        ),
    },
    experiments: {
      /** Starts an A/B experiment; omitted settings take the server's defaults. */
      create: (model: string, e: ExperimentCreateInput) =>
        call<ExperimentApiView>("POST", `/api/v1/models/${enc(model)}/experiments`, e),
      /** The running experiment, or the last one, with its latest results. */
      get: (model: string) => call<ExperimentApiView>("GET", `/api/v1/models/${enc(model)}/experiment`),
      results: (model: string) =>
        call<ExperimentResultsView>("GET", `/api/v1/models/${enc(model)}/experiment/results`),
      stop: (model: string, reason?: string) =>
        call<ExperimentApiView>("POST", `/api/v1/models/${enc(model)}/experiment/stop`, { reason }),
    },
    biasDrift: {
      /** Success by group on live traffic per version, attribute and window, and the points that alerted. */
      series: (model: string, q: QueryInput<typeof SeriesQuerySchema> = {}) =>
        call<SeriesView>("GET", `/api/v1/models/${enc(model)}/bias-drift`, undefined, q),
      /** Computes the ended windows in [from, to) now (backfill); a window already computed adds nothing. */
      compute: (model: string, from: string, to: string) =>
        call<ComputedView>("POST", `/api/v1/models/${enc(model)}/bias-drift/compute`, { from, to }),
    },
    evals: {
      /** Starts (or resumes: same version, same suite, still running) an evaluation run on the server. */
      start: (model: string, version: string, body: Input<typeof EvalStartSchema>) =>
        call<EvalRunView>("POST", `${v(model, version)}/evals`, body),
      get: (id: string) => call<EvalRunView>("GET", `/api/v1/evals/${enc(id)}`),
      list: (q: QueryInput<typeof EvalListQuerySchema> = {}) =>
        call<{ runs: EvalRunView[] }>("GET", "/api/v1/evals", undefined, q),
      cases: (id: string, q: QueryInput<typeof EvalCasesQuerySchema> = {}) =>
        call<{ cases: EvalCaseView[] }>("GET", `/api/v1/evals/${enc(id)}/cases`, undefined, q),
      cancel: (id: string, reason: string) =>
        call<EvalRunView>("POST", `/api/v1/evals/${enc(id)}/cancel`, { reason }),
      acceptDisparity: (id: string, justification: string) =>
        call<EvalRunView>("POST", `/api/v1/evals/${enc(id)}/accept-disparity`, { justification }),
      compare: (a: string, b: string, alpha?: number) =>
        call<EvalComparisonView>("GET", "/api/v1/evals/compare", undefined, { a, b, alpha }),
      latest: (model: string, version: string, suiteHash: string) =>
        call<{ run: EvalRunView | null }>("GET", `${v(model, version)}/evals/latest`, undefined, {
          suiteHash,
        }),
    },
    routers: routersClient(call),
    monitor: {
      /** The production version watched, its baseline, and each rule's state and last window. */
      status: (model: string) => call<MonitorStatus>("GET", `/api/v1/models/${enc(model)}/monitor`),
      history: (model: string, q: { rule?: string; from?: string; to?: string; limit?: number } = {}) =>
        call<{ model: string; windows: MonitorStatus["rules"][number]["last"][] }>(
          "GET",
          `/api/v1/models/${enc(model)}/monitor/history`,
          undefined,
          q,
        ),
      config: (model: string) =>
        call<{ model: string; configuredFor: string; config: MonitorConfig }>(
          "GET",
          `/api/v1/models/${enc(model)}/monitor/config`,
        ),
      setConfig: (model: string, config: Input<typeof MonitorConfigSchema>) =>
        call<{ model: string; configuredFor: string; config: MonitorConfig }>(
          "PUT",
          `/api/v1/models/${enc(model)}/monitor/config`,
          config,
        ),
      removeConfig: (model: string) => call<void>("DELETE", `/api/v1/models/${enc(model)}/monitor/config`),
      /** Judges the model's ended windows now. */
      run: (model: string) =>
        call<{
          judged: number;
          fired: { rule: string; summary: string; event: string }[];
          resolved: string[];
        }>("POST", `/api/v1/models/${enc(model)}/monitor/run`),
    },
    killSwitches: killSwitchesClient(call),
    traffic: {
      /** A containerised model's cluster route and whether it carries the weights modelgov wants. */
      get: (model: string) => call<TrafficTargetView>("GET", `/api/v1/models/${enc(model)}/traffic-target`),
      set: (model: string, target: Input<typeof TrafficTargetSchema>) =>
        call<TrafficTargetView>("PUT", `/api/v1/models/${enc(model)}/traffic-target`, target),
      remove: (model: string) => call<void>("DELETE", `/api/v1/models/${enc(model)}/traffic-target`),
    },
    shadow: {
      /** Mirror `share` percent of the model's plain calls to `version` (answers never returned). */
      start: (model: string, version: string, share = 100) =>
        call<{ model: string; shadow: { version: string; share: number } }>(
          "POST",
          `/api/v1/models/${enc(model)}/shadow`,
          { version, share },
        ),
      stop: (model: string) =>
        call<{ model: string; shadow: null }>("DELETE", `/api/v1/models/${enc(model)}/shadow`),
      report: (model: string, window?: string) =>
        call<ShadowReportView>("GET", `/api/v1/models/${enc(model)}/shadow`, undefined, { window }),
    },
    retraining: {
      /** Tasks newest first; `state: "active"` for every state before closed and dismissed. */
      list: (q: QueryInput<typeof TaskQuerySchema> = {}) =>
        call<Page<TaskView>>("GET", "/api/v1/retraining", undefined, q),
      get: (id: string) => call<TaskDetail>("GET", rt(id)),
      /** Reports a breach: opens a task, or adds the evidence to the one open on the model. */
      open: (body: Input<typeof OpenSchema>) => call<Opened>("POST", "/api/v1/retraining", body),
      startTraining: (id: string, body: Input<typeof StartTrainingSchema> = {}) =>
        call<TaskView>("POST", rt(id, "start-training"), body),
      /** Judges the candidate's run against production's; the verdict says why when it does not pass. */
      evaluate: (id: string, body: Input<typeof EvaluateSchema>) =>
        call<{ task: TaskView; verdict: Verdict }>("POST", rt(id, "evaluate"), body),
      markApproved: (id: string) => call<TaskView>("POST", rt(id, "mark-approved")),
      markRolledOut: (id: string) => call<TaskView>("POST", rt(id, "mark-rolled-out")),
      close: (id: string, note = "") => call<TaskView>("POST", rt(id, "close"), { note }),
      dismiss: (id: string, justification: string) =>
        call<TaskView>("POST", rt(id, "dismiss"), { justification }),
      /**
       * The failing slice, streamed: the counts (from the answer's headers), the file name, and
       * the body to read as it comes (JSON Lines, or one JSON suite document).
       */
      dataset: async (id: string, q: QueryInput<typeof DatasetQuerySchema>) => {
        const res = await stream(rt(id, "dataset"), q);
        const n = (h: string) => Number(res.headers.get(`x-modelgov-slice-${h}`) ?? 0);
        return {
          counts: {
            failing: n("failing"),
            exportable: n("exportable"),
            withoutBody: n("without-body"),
            corrected: n("corrected"),
          },
          filename: /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? null,
          body: res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
        };
      },
    },
    audit: {
      events: (q: QueryInput<typeof AuditQuerySchema> = {}) =>
        call<Page<AuditEventView>>("GET", "/api/v1/audit/events", undefined, q),
      verify: () => call<VerifyResult>("GET", "/api/v1/audit/verify"),
      /** The JSONL archive: header, events, checkpoints (see modules/audit/export-format.ts). */
      export: () => call<string>("GET", "/api/v1/audit/export"),
      publicKey: () =>
        call<{ algorithm: "ed25519"; keyId: string; publicKey: string }>("GET", "/api/v1/audit/public-key"),
      checkpoint: () => call<CheckpointOutcome>("POST", "/api/v1/audit/checkpoints"),
    },
    flags: flagsClient(call),
  };
}

export type Client = ReturnType<typeof createClient>;
