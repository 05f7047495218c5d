import { readdirSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gatewayCall, type LoadCall, type Outcome, startLoad } from "../../src/test-support/http-load.ts";
import {
  hermeticEnv,
  prepareSimulatorModel,
  type ServeChild,
  spawnServe,
} from "../../src/test-support/serve-child.ts";
import type { startTcpCut } from "../../src/test-support/tcp-cut.ts";
import { type Acknowledged, missingAfter } from "./verify.ts";

export const KINDS = ["gateway", "control-plane", "feedback"] as const;
export type Kind = (typeof KINDS)[number];

export interface KindTally {
  /** 2xx answers received in full (for the control plane: 201, the transaction committed). */
  acknowledged: number;
  /** Acknowledged, then not in the store once it was opened again (and the spool replayed). */
  lost: number;
  /** 5xx answers; `with503RetryAfter` of them were 503 with a Retry-After header. */
  x5xx: number;
  with503RetryAfter: number;
  /** Requests sent before the round was ended that got no answer (refused, reset, cut by the kill). */
  noAnswer: number;
}

export interface RoundResult {
  round: number;
  end: "kill9" | "sigterm" | "outage";
  loadMs: number;
  /** From the signal to the exit, as seen from here. */
  exitMs: number;
  exitCode: number | null;
  exitSignal: string | null;
  /** Entries the verifier replayed from the spool (left by a killed server). */
  replayedBySpool: number;
  /** Outage rounds: how long after the database came back the server's spool was empty. */
  spoolDrainedMs?: number;
  kinds: Record<Kind, KindTally>;
  /** Up to five keys that were lost, per kind, to look them up. */
  lostSample: Partial<Record<Kind, string[]>>;
  /** The server exited before the bench ended the round: its last log lines. */
  crashLog?: string[];
}

export interface StoreUnderTest {
  kind: "pglite" | "postgres";
  dataDir: string;
  /** The server's DATABASE_URL ("" for the embedded store); for an outage, through the proxy. */
  serverDatabaseUrl: string;
  /** Where the verifier reads the store (PostgreSQL: directly, not through the proxy). */
  verifyDatabaseUrl?: string;
  admin: string;
  /** Set on the first round: the agent token of the simulator model. */
  agent?: string;
}

const MODEL = "fault-chat";

/** Control-plane write: a model named per round and sequence, acknowledged by its 201. */
function modelCall(admin: string, name: string): LoadCall {
  return {
    kind: "control-plane",
    method: "POST",
    path: "/api/v1/models",
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: JSON.stringify({ name, owner: "faults", riskTier: "low", useCases: ["faults"] }),
    idOf: (status) => (status === 201 ? name : null),
  };
}

/** Feedback on the latest answered gateway request, acknowledged by its 202 and feedback id. */
function feedbackCall(agent: string, requestId: string, seq: number): LoadCall {
  return {
    kind: "feedback",
    method: "POST",
    path: "/v1/feedback",
    headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
    body: JSON.stringify({ requestId, success: seq % 3 !== 0, comment: `fault run ${seq}` }),
    idOf: (status, _h, text) =>
      status === 202 ? ((JSON.parse(text) as { feedbackId: string }).feedbackId ?? null) : null,
  };
}

const lastAcknowledged = (outcomes: Outcome[]) => {
  for (let i = outcomes.length - 1; i >= 0; i--) if (outcomes[i]!.acknowledged) return outcomes[i]!.id!;
  return null;
};

const spoolFiles = (dir: string) => {
  try {
    return readdirSync(dir).filter((f) => /\.\d{15}\.\d{6}\.jsonl$/.test(f)).length;
  } catch {
    return 0;
  }
};

async function waitUntil(check: () => boolean | Promise<boolean>, ms: number) {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) return false;
    await sleep(50);
  }
  return true;
}

export interface RoundPlan {
  round: number;
  end: "kill9" | "sigterm" | "outage";
  loadMs: number;
  connections: { gateway: number; controlPlane: number; feedback: number };
  outage?: { proxy: Awaited<ReturnType<typeof startTcpCut>>; how: "refuse" | "hang"; ms: number };
}

/**
 * One round: start `modelgov serve` on the store, load it (gateway, control-plane writes,
 * feedback), end it (kill -9, SIGTERM, or a database outage then SIGTERM), open the store
 * again and count what was acknowledged and is not there.
 */
export async function runRound(
  store: StoreUnderTest,
  plan: RoundPlan,
  children: Set<ServeChild>,
): Promise<RoundResult> {
  const server = await spawnServe({
    args: ["--no-demo", "--data-dir", store.dataDir],
    env: hermeticEnv({
      DATABASE_URL: store.serverDatabaseUrl,
      MODELGOV_ADMIN_TOKEN: store.admin,
      MODELGOV_LOG_LEVEL: "info",
      MODELGOV_GATEWAY_RATE_PER_SEC: "1000000",
      MODELGOV_GATEWAY_RATE_BURST: "1000000",
    }),
    timeoutMs: 180_000,
  });
  children.add(server);
  let crashLog: string[] | undefined;
  try {
    store.agent ??= (
      await prepareSimulatorModel({
        url: server.url,
        adminToken: store.admin,
        model: MODEL,
        latencyMs: { p50: 20, p95: 80 },
      })
    ).agent;
    const agent = store.agent;
    const probe = gatewayCall({ token: agent, model: MODEL, stream: false, subject: "probe" });
    const routable = await waitUntil(
      async () => (await fetch(`${server.url}${probe.path}`, { ...probe })).status === 200,
      20_000,
    );
    if (!routable) throw new Error("the fault model never became routable");

    const gw = startLoad({
      origin: server.url,
      connections: plan.connections.gateway,
      next: (seq) =>
        gatewayCall({ token: agent, model: MODEL, stream: seq % 4 === 3, subject: `user-${seq % 200}` }),
    });
    const tag = `r${plan.round}-${Date.now().toString(36)}`;
    const cp = startLoad({
      origin: server.url,
      connections: plan.connections.controlPlane,
      next: (seq) => modelCall(store.admin, `f-${tag}-${seq}`),
    });
    const fb = startLoad({
      origin: server.url,
      connections: plan.connections.feedback,
      next: (seq) => feedbackCall(agent, lastAcknowledged(gw.outcomes) ?? `req_none_${seq}`, seq),
    });
    await sleep(plan.loadMs);

    let spoolDrainedMs: number | undefined;
    if (plan.outage) {
      plan.outage.proxy.cut(plan.outage.how);
      await sleep(plan.outage.ms);
      plan.outage.proxy.restore();
      const back = Date.now();
      // Load keeps running while the server replays its spool on its own (backoff up to 30 s).
      await sleep(1_000);
      const spool = path.join(store.dataDir, "spool");
      if (await waitUntil(() => spoolFiles(spool) === 0, 60_000)) spoolDrainedMs = Date.now() - back;
    }

    const signal = plan.end === "kill9" ? "SIGKILL" : "SIGTERM";
    const signalAt = Date.now();
    // A server that died by itself (during an outage, say) is a finding: its last lines say why.
    const crashed = server.proc.exitCode !== null || server.proc.signalCode !== null;
    if (crashed) crashLog = server.lines.slice(-40);
    else process.kill(server.pid, signal);
    const exit = await Promise.race([server.exited, sleep(30_000).then(() => null)]);
    if (!exit) process.kill(server.pid, "SIGKILL");
    const ended = exit ?? (await server.exited);
    const outcomes = [...(await gw.stop()), ...(await cp.stop()), ...(await fb.stop())];

    const acked: Acknowledged = { gateway: [], "control-plane": [], feedback: [] };
    for (const o of outcomes) if (o.acknowledged) acked[o.kind as Kind].push(o.id!);
    const v = await missingAfter(
      store.kind === "pglite"
        ? { kind: "pglite", pgdata: path.join(store.dataDir, "pgdata") }
        : { kind: "postgres", url: store.verifyDatabaseUrl! },
      path.join(store.dataDir, "spool"),
      acked,
    );
    const kinds = {} as Record<Kind, KindTally>;
    const lostSample: Partial<Record<Kind, string[]>> = {};
    for (const k of KINDS) {
      const mine = outcomes.filter((o) => o.kind === k);
      kinds[k] = {
        acknowledged: new Set(acked[k]).size,
        lost: v.missing[k].length,
        x5xx: mine.filter((o) => o.status >= 500).length,
        with503RetryAfter: mine.filter((o) => o.status === 503 && o.retryAfter).length,
        noAnswer: mine.filter((o) => o.status === 0 && o.sentAt < signalAt).length,
      };
      if (v.missing[k].length) lostSample[k] = v.missing[k].slice(0, 5);
    }
    return {
      round: plan.round,
      end: plan.end,
      loadMs: plan.loadMs,
      exitMs: ended.at - signalAt,
      exitCode: ended.code,
      exitSignal: ended.signal,
      replayedBySpool: v.replayed,
      ...(spoolDrainedMs !== undefined ? { spoolDrainedMs } : {}),
      kinds,
      lostSample,
      ...(crashLog ? { crashLog } : {}),
    };
  } finally {
    if (server.proc.exitCode === null && server.proc.signalCode === null) process.kill(server.pid, "SIGKILL");
    await server.exited;
    children.delete(server);
  }
}
