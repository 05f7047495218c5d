import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SpoolRow } from "../../lib/spool.ts";
import type { Db } from "../../store/db.ts";
import { allStoreTargets } from "../../test-support/stores.ts";
import { featureCounts, type RequestFeatures } from "./features.ts";
import { insertFeedbackBatch } from "./feedback-log.ts";
import {
  errorCounts,
  featureHistograms,
  mirrorWindow,
  outcomesByGroups,
  type PathCounts,
  pathCounts,
  type RouteMember,
  windowMetrics,
} from "./index.ts";
import { createPartitionCache } from "./partitions.ts";
import { insertRequestBatch, type RequestLogEntry, requestLogRow } from "./request-log.ts";
import { clientTraffic, unitsPerVersion } from "./traffic.ts";
import { splitWindow } from "./windows.ts";

/** A small seeded generator, so a failure is reproducible from its seed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = Date.parse("2026-03-01T21:50:00.000Z"); // 3 h crossing a UTC day: two partitions
const SPAN = 180 * 60_000;
const VERSIONS = ["ver_a", "ver_b", "ver_c"];

interface Scenario {
  requests: SpoolRow[];
  feedback: SpoolRow[];
}

const SCRIPTS = ["latin", "cyrillic", "cjk", "none"] as const;

/** Random features, some fields absent (null) as a failed call or an old row leaves them. */
function features(r: () => number): RequestFeatures | null {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  if (r() < 0.1) return null;
  const answered = r() < 0.85;
  return {
    messages: 1 + Math.floor(r() * r() * 40),
    script: pick(SCRIPTS),
    toolsOffered: pick([0, 0, 1, 3]),
    toolCalls: answered ? pick([0, 0, 0, 1, 2, 5]) : null,
    refusal: answered ? r() < 0.1 : null,
    valid: answered && r() < 0.4 ? r() < 0.8 : null,
    label: answered && r() < 0.5 ? pick(["positive", "negative", "neutral", "Négatif"]) : null,
    finishReason: answered ? pick(["stop", "length", "tool_calls", "content_filter"]) : null,
    ...(r() < 0.3 ? { metadata: { feature: pick(["search", "chat"]), tenant: pick(["a", "b", "c"]) } } : {}),
  };
}

const OUTCOMES = ["served", "escalated", "outvoted", "failed", "refused"] as const;

/** A router's members, some of an unknown role (a judge) that is not on the path; or none. */
function routerMembers(r: () => number): Pick<RequestLogEntry, "routePath" | "routeStrategy"> {
  if (r() < 0.4) return {};
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const routeStrategy = pick(["route", "cascade", "ensemble"] as const);
  const tiers = routeStrategy === "route" ? [pick(["cheap", "strong"])] : ["cheap", "mid", "strong"];
  const routePath: RouteMember[] = tiers.map((tier) => ({
    tier,
    versionId: `ver_${tier}`,
    version: "1.0.0",
    outcome: pick(OUTCOMES),
    reason: null,
    tokensIn: 1,
    tokensOut: 1,
    costUsd: Math.round(r() * 100) / 1e5,
    upstreamMs: null,
  }));
  if (r() < 0.2) routePath.push({ ...routePath[0]!, tier: "judge", role: "judge", outcome: "served" });
  return { routePath, routeStrategy };
}

function scenario(seed: number, tag: string, n: number): Scenario {
  const r = rng(seed);
  // The router members draw from their own stream, so the other sums see the same rows as before.
  const rr = rng(seed + 1);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const requests: SpoolRow[] = [];
  const feedback: SpoolRow[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(T0 + Math.floor(r() * SPAN));
    const routed = pick(VERSIONS);
    const failedFirst = r() < 0.15;
    const shadow = r() < 0.1;
    const e: RequestLogEntry = {
      id: `req_${tag}_${i}`,
      at,
      tokenId: "tok_1",
      client: pick(["checkout", "triage", null]),
      model: pick(["m1", "m2"]),
      versionId: failedFirst ? pick(VERSIONS) : routed,
      version: "1.0.0",
      routeReason: "split:x",
      endpoint: "chat.completions",
      stream: false,
      status: pick([200, 200, 200, 429, 500, 503]),
      errorClass: null,
      totalMs: r() < 0.05 ? 0.4 : Math.exp(r() * 8),
      upstreamMs: null,
      tokensIn: Math.floor(r() * r() * 5000),
      tokensOut: Math.floor(r() * 700),
      costUsd: Math.round(r() * 1000) / 1e5,
      fallbackPath: shadow
        ? []
        : ([{ versionId: routed, version: "1.0.0", outcome: failedFirst ? "failed" : "served" }] as never),
      subject: r() < 0.8 ? `user-${Math.floor(r() * 40)}` : null,
      groups: r() < 0.7 ? { region: pick(["eu", "us"]), tier: pick(["free", "pro"]) } : null,
      shadowOf: shadow ? `req_${tag}_x` : null,
      agreement: shadow ? pick([true, false, null]) : null,
      splitScope: r() < 0.5 ? "exp_1" : null,
      ...(shadow ? {} : routerMembers(rr)),
    };
    // Half the entries carry a derivation run at flush time, as the gateway's do.
    const f = features(r);
    e.features = r() < 0.5 ? f : () => f;
    requests.push(requestLogRow(e));
    // 0-3 feedback rows, some before the request's time (skew), some much later.
    const k = Math.floor(r() * 4);
    for (let j = 0; j < k; j++) {
      const fat = new Date(at.getTime() + Math.floor((r() - 0.1) * 30 * 60_000));
      const success = r() < 0.2 ? null : r() < 0.6;
      feedback.push({
        id: `fbk_${tag}_${i}_${j}`,
        request_id: e.id,
        at: fat.toISOString(),
        success,
        score: success === null || r() < 0.5 ? Math.round(r() * 100) / 100 : null,
        labels: [],
        groups: r() < 0.3 ? { region: pick(["eu", "us", "apac"]) } : {},
        comment: "",
        token_id: "tok_1",
        client: "checkout",
      });
    }
  }
  return { requests, feedback };
}

/** Cuts rows into random batches. */
function batches<T>(xs: T[], r: () => number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; ) {
    const k = 1 + Math.floor(r() * 40);
    out.push(xs.slice(i, i + k));
    i += k;
  }
  return out;
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);

function sameWindow(a: Record<string, unknown>, b: Record<string, unknown>, what: string) {
  for (const k of Object.keys(b)) {
    const x = a[k];
    const y = b[k];
    if (typeof y === "number" && typeof x === "number") close(x, y, `${what}.${k}`);
    else assert.deepEqual(x, y, `${what}.${k}`);
  }
}

/** Path counts equal, the costs to rounding (sums in another order). */
function samePaths(a: Map<string, PathCounts[]>, b: Map<string, PathCounts[]>, what: string) {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), what);
  for (const [v, xs] of a) {
    const ys = b.get(v)!;
    assert.deepEqual(
      xs.map((x) => ({ ...x, costUsd: 0 })),
      ys.map((y) => ({ ...y, costUsd: 0 })),
      `${what} ${v}`,
    );
    for (const [i, x] of xs.entries()) close(x.costUsd, ys[i]!.costUsd, `${what} ${v} ${x.path} cost`);
  }
}

for (const target of allStoreTargets()) {
  describe(`request-log roll-ups on ${target.name}`, { skip: target.skip }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await target.openMigrated());
    });
    after(() => cleanup?.());

    test("sums kept batch by batch (late, superseding and replayed feedback; replayed requests) equal the raw rows, for any window", async () => {
      const seed = 16;
      const r = rng(seed);
      const s = scenario(seed, "p", 600);
      const cache = createPartitionCache();
      // Interleave request and feedback batches in a random order; replay some of each.
      const work: (() => Promise<void>)[] = [];
      for (const b of batches(s.requests, r)) {
        work.push(() => insertRequestBatch(db, b, r() < 0.5, cache));
        if (r() < 0.2) work.push(() => insertRequestBatch(db, b, false, cache)); // a spool replay
      }
      for (const b of batches(s.feedback, r)) {
        work.push(() => insertFeedbackBatch(db, b, cache));
        if (r() < 0.2) work.push(() => insertFeedbackBatch(db, b, cache));
      }
      for (let i = work.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [work[i], work[j]] = [work[j]!, work[i]!];
      }
      // A replay of a fresh batch must come after it: run requests' first writes in order by
      // letting a replay that runs first be a plain idempotent write (it is: fresh=false).
      for (const w of work) await w();

      const [{ n } = { n: -1 }] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM request_log WHERE id LIKE 'req_p_%'",
      );
      assert.equal(n, 600, "every request stored once");

      const windows: [number, number][] = [
        [T0, T0 + SPAN],
        [T0 + 12_345, T0 + 150 * 60_000 + 999],
        [T0 + 3 * 60_000, T0 + 3 * 60_000 + 30_000],
        [T0 + 61_000, T0 + 19 * 60_000 + 1],
        [T0 + 10 * 60_000, T0 + 130 * 60_000],
      ];
      for (let i = 0; i < 6; i++) {
        const a = T0 + Math.floor(r() * SPAN);
        windows.push([a, a + Math.floor(r() * 150 * 60_000)]);
      }
      let rolled = 0;
      let hourly = 0;
      for (const [f, t] of windows) {
        const from = new Date(f);
        const to = new Date(t);
        const tiers = splitWindow(from, to);
        if (tiers.minutes.length) rolled++;
        if (tiers.hours) hourly++;
        for (const model of ["m1", "m2"]) {
          const fast = await windowMetrics(db, model, VERSIONS, from, to);
          const slow = await windowMetrics(db, model, VERSIONS, from, to, { raw: true });
          for (const v of VERSIONS)
            sameWindow(
              fast.get(v) as unknown as Record<string, unknown>,
              slow.get(v) as unknown as Record<string, unknown>,
              `${model}/${v} [${from.toISOString()}, ${to.toISOString()})`,
            );
          assert.deepEqual(
            await errorCounts(db, model, VERSIONS, from, to),
            await errorCounts(db, model, VERSIONS, from, to, { raw: true }),
          );
          const key = (o: { versionId: string; groups: object }) =>
            `${o.versionId}${JSON.stringify(o.groups)}`;
          const sortG = (xs: Awaited<ReturnType<typeof outcomesByGroups>>) =>
            xs
              .map((x) => ({ ...x, groups: Object.fromEntries(Object.entries(x.groups).sort()) }))
              .sort((x, y) => key(x).localeCompare(key(y)));
          assert.deepEqual(
            sortG(await outcomesByGroups(db, model, from, to)),
            sortG(await outcomesByGroups(db, model, from, to, { raw: true })),
          );
          for (const v of VERSIONS)
            sameWindow(
              (await mirrorWindow(db, model, v, from, to)) as unknown as Record<string, unknown>,
              (await mirrorWindow(db, model, v, from, to, { raw: true })) as unknown as Record<
                string,
                unknown
              >,
              `mirror ${model}/${v}`,
            );
          samePaths(
            await pathCounts(db, model, null, from, to),
            await pathCounts(db, model, null, from, to, { raw: true }),
            `paths of ${model} over [${from.toISOString()}, ${to.toISOString()})`,
          );
          assert.deepEqual(
            await featureHistograms(db, model, VERSIONS, from, to),
            await featureHistograms(db, model, VERSIONS, from, to, { raw: true }),
            `feature histograms of ${model} over [${from.toISOString()}, ${to.toISOString()})`,
          );
        }
      }
      assert.ok(rolled >= 4, "most windows read whole minutes from the roll-ups");
      assert.ok(hourly >= 3, "several read whole hours");
      // The windows are not empty: the comparison compared something.
      const all = await windowMetrics(db, "m1", VERSIONS, new Date(T0), new Date(T0 + SPAN));
      assert.ok([...all.values()].every((w) => w.requests > 10 && w.feedbackCount > 0));

      // The new sums and the histograms of the whole span, against the rows as generated.
      const served = s.requests.filter((q) => q.model === "m1" && q.shadow_of === null);
      const histograms = await featureHistograms(db, "m1", VERSIONS, new Date(T0), new Date(T0 + SPAN));
      for (const v of VERSIONS) {
        const mine = served.filter((q) => q.routed_version_id === v);
        const f = (q: SpoolRow) => q.features as RequestFeatures | null;
        const w = all.get(v)!;
        assert.deepEqual(
          [w.tokensIn, w.tokensOut, w.refusals, w.validityChecked, w.valid],
          [
            mine.reduce((a, q) => a + Number(q.tokens_in), 0),
            mine.reduce((a, q) => a + Number(q.tokens_out), 0),
            mine.filter((q) => f(q)?.refusal === true).length,
            mine.filter((q) => typeof f(q)?.valid === "boolean").length,
            mine.filter((q) => f(q)?.valid === true).length,
          ],
          `tokens, refusals and validity of ${v}`,
        );
        assert.ok(w.refusals > 0 && w.validityChecked > w.valid && w.valid > 0, "the sums counted something");
        const want: Record<string, Record<string, number>> = {};
        for (const q of mine)
          for (const c of featureCounts(q)) {
            want[c.feature] ??= {};
            want[c.feature]![c.bin] = (want[c.feature]![c.bin] ?? 0) + 1;
          }
        assert.deepEqual(histograms.get(v), want, `feature histograms of ${v}`);
        assert.equal(histograms.get(v)?.label?.Négatif !== undefined, true);
        assert.ok(
          Object.keys(want).includes("group:region") && Object.keys(want).includes("metadata:tenant"),
        );
      }

      // Paths over the whole span, against the generated rows and their latest feedback.
      const byPath = await pathCounts(db, "m1", VERSIONS, new Date(T0), new Date(T0 + SPAN));
      const latest = new Map<string, SpoolRow>();
      for (const f of s.feedback) {
        const q = s.requests.find((x) => x.id === f.request_id)!;
        const cur = latest.get(String(f.request_id));
        if (Date.parse(String(f.at)) < Date.parse(String(q.at)) - 3_600_000) continue;
        if (!cur || String(f.at) > String(cur.at) || (f.at === cur.at && String(f.id) > String(cur.id)))
          latest.set(String(f.request_id), f);
      }
      const keys = new Set<string>();
      for (const v of VERSIONS) {
        const want = new Map<string, { requests: number; judged: number; successes: number; cost: number }>();
        for (const q of served.filter((x) => x.routed_version_id === v && x.route_key !== null)) {
          keys.add(String(q.route_key));
          const w = want.get(String(q.route_key)) ?? { requests: 0, judged: 0, successes: 0, cost: 0 };
          const f = latest.get(String(q.id));
          w.requests++;
          w.cost += Number(q.cost_usd);
          if (f && f.success !== null) w.judged++;
          if (f?.success === true) w.successes++;
          want.set(String(q.route_key), w);
        }
        const got = byPath.get(v)!;
        assert.deepEqual(
          got.map((p) => [p.path, p.requests, p.judged, p.successes]).sort(),
          [...want].map(([k, w]) => [k, w.requests, w.judged, w.successes]).sort(),
          `paths of ${v}`,
        );
        for (const p of got) close(p.costUsd, want.get(p.path)!.cost, `cost of ${v} ${p.path}`);
      }
      for (const k of ["cheap", "strong", "cheap>mid>strong", "mid>strong", "(none)"])
        assert.ok(keys.has(k), `the scenario has the path ${k}`);
      assert.ok(![...keys].some((k) => k.includes("judge")), "a judge is not on the path");

      // Dependents: per client and served version, from a time on.
      for (const since of [T0, T0 + 90_500]) {
        const got = await clientTraffic(db, "m1", new Date(since));
        const want = await db.query<{
          client: string;
          version_id: string | null;
          requests: number;
          errors: number;
        }>(
          `SELECT COALESCE(client, '') AS client, version_id, count(*)::int AS requests,
                  count(*) FILTER (WHERE status >= 400)::int AS errors
             FROM request_log WHERE model = 'm1' AND at >= $1 AND shadow_of IS NULL AND id LIKE 'req_p_%'
            GROUP BY 1, 2 ORDER BY 1, 2`,
          [new Date(since).toISOString()],
        );
        assert.deepEqual(
          got
            .map((g) => ({
              client: g.client,
              version_id: g.version_id,
              requests: g.requests,
              errors: g.errors,
            }))
            .sort((a, b) => `${a.client}/${a.version_id}`.localeCompare(`${b.client}/${b.version_id}`)),
          want.sort((a, b) => `${a.client}/${a.version_id}`.localeCompare(`${b.client}/${b.version_id}`)),
        );
      }

      // Units of the scoped split: distinct subjects per routed version, a subject-less request one each.
      const units = await unitsPerVersion(db, "exp_1");
      const want = await db.query<{ vid: string; units: number }>(
        `SELECT routed_version_id AS vid,
                (count(DISTINCT subject_hash) + count(*) FILTER (WHERE subject_hash IS NULL))::int AS units
           FROM request_log WHERE split_scope = 'exp_1' AND shadow_of IS NULL GROUP BY 1`,
      );
      assert.ok(want.length > 0);
      for (const w of want) assert.equal(units.get(w.vid), w.units, `units of ${w.vid}`);
    });

    test("a later answer replaces the earlier one in its request's minute; the same feedback again adds nothing", async () => {
      const at = new Date("2026-04-02T10:00:30.000Z");
      const req = requestLogRow({
        id: "req_late_1",
        at,
        tokenId: null,
        client: "c",
        model: "late",
        versionId: "ver_a",
        version: "1.0.0",
        routeReason: "alias:production",
        endpoint: "chat.completions",
        stream: false,
        status: 200,
        errorClass: null,
        totalMs: 100,
        upstreamMs: null,
        tokensIn: 0,
        tokensOut: 0,
        costUsd: 0,
        fallbackPath: [{ versionId: "ver_a", outcome: "served" }] as never,
      });
      const fb = (id: string, minutes: number, success: boolean) => ({
        id,
        request_id: "req_late_1",
        at: new Date(at.getTime() + minutes * 60_000).toISOString(),
        success,
        score: null,
        labels: [],
        groups: {},
        comment: "",
        token_id: "t",
        client: "c",
      });
      const read = async () =>
        (
          await windowMetrics(
            db,
            "late",
            ["ver_a"],
            new Date("2026-04-02T10:00:00Z"),
            new Date("2026-04-02T10:01:00Z"),
          )
        ).get("ver_a")!;
      await insertFeedbackBatch(db, [fb("fbk_l1", 1, false)]); // before the request lands
      await insertRequestBatch(db, [req], true);
      assert.deepEqual([(await read()).feedbackCount, (await read()).successes], [1, 0]);
      await insertFeedbackBatch(db, [fb("fbk_l2", 60 * 24 * 3, true)]); // three days later: another partition
      assert.deepEqual([(await read()).feedbackCount, (await read()).successes], [1, 1]);
      await insertFeedbackBatch(db, [fb("fbk_l1", 60 * 24 * 4, false)]); // the first one, resent: nothing
      assert.deepEqual([(await read()).feedbackCount, (await read()).successes], [1, 1]);
      await insertFeedbackBatch(db, [fb("fbk_l0", 30, false)]); // older than the latest: nothing
      assert.deepEqual([(await read()).feedbackCount, (await read()).successes], [1, 1]);
      const [{ n } = { n: -1 }] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM feedback WHERE request_id = 'req_late_1'",
      );
      assert.equal(n, 3);
    });
  });
}
