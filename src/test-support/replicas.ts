// Several `modelgov serve` processes on one PostgreSQL database: a model whose route the test
// moves, what each replica's gateway routes to, and who holds the controller's lease.
import { createClient } from "../client/index.ts";
import { SECTION_KEYS } from "../modules/cards/card-sections.ts";
import type { Queryable } from "../store/db.ts";

const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: replicas fixture.`])),
  extraSections: [],
};

/**
 * On a fresh server: `model` with simulator versions 1.0.0 (production) and 1.1.0, both
 * approved, answering in about a millisecond. Returns an agent token for the gateway and
 * the admin's client.
 */
export async function prepareTwoVersions(o: { url: string; adminToken: string; model: string }) {
  const admin = createClient({ baseUrl: o.url, token: o.adminToken });
  const eng = (await admin.tokens.create({ name: "replicas-engineer", roles: ["engineering"] })).token;
  const agent = (await admin.tokens.create({ name: "replicas-agent", roles: ["agent"] })).token;
  await admin.models.create({ name: o.model, owner: "replicas", riskTier: "low", useCases: ["support"] });
  for (const version of ["1.0.0", "1.1.0"]) {
    await admin.versions.register(o.model, {
      version,
      provider: "simulator",
      providerModelId: `sim-${version}`,
      parameters: {
        latencyMs: { p50: 1, p95: 2 },
        errorRate: 0,
        tokens: { output: 4 },
        quality: { success: 0.9 },
      },
      card: CARD,
    });
    const r = await admin.approvals.request(o.model, version, "replica runs");
    await createClient({ baseUrl: o.url, token: eng }).approvals.sign(r.id, {
      role: "engineering",
      decision: "approve",
      comment: "replica runs",
    });
  }
  await admin.aliases.set(o.model, "production", "1.0.0", "replica runs");
  return { agent, admin };
}

/** The version the gateway at `origin` routes `model` to now (one call), or its failure. */
export async function routedVersion(
  origin: string,
  agent: string,
  model: string,
  timeoutMs = 2000,
): Promise<string> {
  try {
    const res = await fetch(`${origin}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
      body: JSON.stringify({ model, max_tokens: 4, messages: [{ role: "user", content: "which?" }] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return res.status === 200 ? (res.headers.get("x-modelgov-model-version") ?? "?") : `status ${res.status}`;
  } catch (err) {
    return `error ${(err as Error).name}`;
  }
}

/** The rollout controller's lease row: its holder (host:pid:tag), epoch and expiry. */
export async function controllerLease(db: Queryable) {
  const rows = await db.query<{ holder: string; epoch: string; expires_at: Date }>(
    "SELECT holder, epoch, expires_at FROM controller_leases WHERE name = 'rollout-controller'",
  );
  const r = rows[0];
  return r
    ? {
        holder: r.holder,
        pid: Number(r.holder.split(":")[1]),
        epoch: Number(r.epoch),
        expiresAt: r.expires_at,
      }
    : null;
}

/** Polls `check` every `everyMs` until it is true; the milliseconds it took, or throws after `ms`. */
export async function timeUntil(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
  everyMs = 5,
) {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return performance.now() - start;
}
