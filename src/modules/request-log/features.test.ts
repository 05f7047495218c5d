import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SpoolRow } from "../../lib/spool.ts";
import type { Db } from "../../store/db.ts";
import { allStoreTargets } from "../../test-support/stores.ts";
import {
  cutValue,
  FEATURE_ATTRIBUTE_CAP,
  FEATURE_BIN_CAP,
  featureCounts,
  NUMERIC_BIN_BOUNDS,
  numericBin,
  OTHER_BIN,
  type RequestFeatures,
  resolveFeatures,
} from "./features.ts";
import { featureHistograms } from "./index.ts";
import { createPartitionCache } from "./partitions.ts";
import { insertRequestBatch, type RequestLogEntry, requestLogRow } from "./request-log.ts";

describe("feature bins", () => {
  test("counts: 0-3 alone, then two bins per doubling, named by their lower bound", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 23, 24, 1023, 1024, 1535, 1536].map(numericBin),
      [
        "0",
        "1",
        "2",
        "3",
        "4",
        "4",
        "6",
        "6",
        "8",
        "8",
        "12",
        "12",
        "16",
        "16",
        "24",
        "768",
        "1024",
        "1024",
        "1536",
      ],
    );
    assert.equal(numericBin(-3), "0");
    assert.equal(numericBin(2.9), "2");
    assert.equal(numericBin(1e300), "16777216");
    assert.equal(NUMERIC_BIN_BOUNDS.length, 49);
    // Two bins per doubling merge exactly into the powers of two.
    for (let k = 2; k <= 24; k++) assert.ok(NUMERIC_BIN_BOUNDS.includes(2 ** k));
  });

  test("values are cut to 64 code points, never inside a surrogate pair", () => {
    assert.equal(cutValue("x".repeat(80)), "x".repeat(64));
    const emoji = "😀".repeat(70); // 140 UTF-16 units, 70 code points
    assert.equal(cutValue(emoji), "😀".repeat(64));
    assert.equal(cutValue("short"), "short");
  });

  test("a derivation that throws leaves the row without features instead of losing it", () => {
    assert.equal(
      resolveFeatures(() => {
        throw new Error("bug");
      }),
      null,
    );
    assert.equal(resolveFeatures(undefined), null);
  });
});

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

const entry = (over: Partial<RequestLogEntry> & Pick<RequestLogEntry, "id" | "at">): RequestLogEntry => ({
  tokenId: "tok",
  client: "c",
  model: "caps",
  versionId: "ver_a",
  version: "1.0.0",
  routeReason: "alias:production",
  endpoint: "chat.completions",
  stream: false,
  status: 200,
  errorClass: null,
  totalMs: 10,
  upstreamMs: null,
  tokensIn: 10,
  tokensOut: 5,
  costUsd: 0,
  fallbackPath: [{ versionId: "ver_a", version: "1.0.0", outcome: "served" }] as never,
  ...over,
});

const LONG = "é".repeat(70);

for (const target of allStoreTargets()) {
  describe(`feature roll-up on ${target.name}`, { skip: target.skip }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await target.openMigrated());
    });
    after(() => cleanup?.());

    test("the writers' bins (TypeScript) are the raw reads' (modelgov_feature_values), row for row", async () => {
      const xs = [-2, 0, 1, 2, 3, 4, 6, 7, 8, 9, 2.5, 1e13];
      for (let k = 2; k <= 25; k++) xs.push(2 ** k - 1, 2 ** k, 2 ** k + 1, 1.5 * 2 ** k - 1, 1.5 * 2 ** k);
      const got = await db.query<{ x: string; bin: string }>(
        "SELECT x::text AS x, modelgov_count_bin(x) AS bin FROM unnest($1::numeric[]) AS x",
        [xs],
      );
      assert.deepEqual(
        got.map((g) => g.bin),
        xs.map(numericBin),
      );
      const rows: SpoolRow[] = [
        { tokens_in: 0, tokens_out: 0, features: null, groups: null },
        {
          tokens_in: 1500,
          tokens_out: 33,
          features: {
            messages: 7,
            script: "cyrillic",
            toolsOffered: 2,
            toolCalls: 1,
            refusal: false,
            valid: true,
            label: "Positive",
            finishReason: "tool_calls",
            metadata: { tenant: "acme", [LONG]: LONG, n: 3 },
          },
          groups: { region: "eu", [LONG]: LONG },
        },
        {
          tokens_in: 3,
          tokens_out: 9,
          // Wrong JSON types count nowhere, on both sides.
          features: { messages: "7", script: 1, toolsOffered: 0, refusal: "yes", valid: null, metadata: [] },
          groups: { n: 1 },
        },
      ];
      for (const row of rows) {
        const sql = await db.query<{ feature: string; bin: string; cap: number | null; pf: string | null }>(
          "SELECT feature, bin, cap, pf FROM modelgov_feature_values($1, $2, $3::jsonb, $4::jsonb) ORDER BY 1, 2",
          [row.tokens_in, row.tokens_out, JSON.stringify(row.features), JSON.stringify(row.groups)],
        );
        const ts = featureCounts(row)
          .map((c) => ({ feature: c.feature, bin: c.bin, cap: c.cap ?? null, pf: c.parent?.feature ?? null }))
          .sort((a, b) =>
            a.feature === b.feature ? (a.bin < b.bin ? -1 : 1) : a.feature < b.feature ? -1 : 1,
          );
        const norm = (xs: typeof ts) =>
          xs.map((x) => `${x.feature}|${x.bin}|${x.cap}|${x.pf}`).sort((a, b) => (a < b ? -1 : 1));
        assert.deepEqual(norm(sql), norm(ts));
      }
      assert.ok(featureCounts(rows[1]!).some((c) => c.feature === `group:${"é".repeat(64)}`));
    });

    test("past its cap a feature counts new values in __other__, all of a value's requests or none; reads stay exact", async () => {
      const r = rng(17);
      const t0 = Date.parse("2026-07-01T09:20:00.000Z"); // 80 minutes: two hours, one ragged
      const rows: SpoolRow[] = [];
      for (let i = 0; i < 700; i++) {
        const features: RequestFeatures = {
          messages: 1,
          script: "latin",
          toolsOffered: 0,
          toolCalls: 0,
          refusal: false,
          valid: null,
          // 100 labels, the first ones frequent: more than the cap of 64 in each hour.
          label: `label-${Math.floor(r() * r() * 100)}`,
          finishReason: "stop",
        };
        rows.push(
          requestLogRow(
            entry({
              id: `req_cap_${i}`,
              at: new Date(t0 + Math.floor(r() * 80 * 60_000)),
              groups: { [`attr${Math.floor(r() * 24)}`]: `v${Math.floor(r() * 3)}`, region: "eu" },
              features,
            }),
          ),
        );
      }
      const cache = createPartitionCache();
      for (let i = 0; i < rows.length; ) {
        const k = 1 + Math.floor(r() * 60);
        const batch = rows.slice(i, i + k);
        await insertRequestBatch(db, batch, r() < 0.5, cache);
        if (r() < 0.2) await insertRequestBatch(db, batch, false, cache); // replayed: adds nothing
        i += k;
      }
      const bins = await db.query<{
        hour: Date;
        feature: string;
        bins: number;
        other: number;
        total: number;
      }>(
        `SELECT hour, feature, count(*) FILTER (WHERE bin <> '${OTHER_BIN}')::int AS bins,
                COALESCE(sum(n) FILTER (WHERE bin = '${OTHER_BIN}'), 0)::int AS other, sum(n)::int AS total
           FROM request_feature_rollup_hour WHERE model = 'caps' GROUP BY 1, 2`,
      );
      const of = (feature: string) => bins.filter((b) => b.feature === feature);
      assert.equal(of("label").length, 2, "two hours");
      for (const b of of("label")) {
        assert.equal(b.bins, FEATURE_BIN_CAP, "label: the cap reached");
        assert.ok(b.other > 0, "label: the rest in __other__");
      }
      for (const b of of("group")) assert.equal(b.bins, FEATURE_ATTRIBUTE_CAP, "group: attributes capped");
      // Every request counted once per feature, capped or not.
      const perHour = new Map<number, number>();
      for (const row of rows) {
        const h = Math.floor(Date.parse(row.at as string) / 3_600_000) * 3_600_000;
        perHour.set(h, (perHour.get(h) ?? 0) + 1);
      }
      for (const b of of("label")) assert.equal(b.total, perHour.get(new Date(b.hour).getTime()));
      // All or none: an admitted label holds every request of the hour with it.
      const admitted = await db.query<{ hour: Date; bin: string; n: number }>(
        `SELECT hour, bin, n::int AS n FROM request_feature_rollup_hour
          WHERE model = 'caps' AND feature = 'label' AND bin <> '${OTHER_BIN}'`,
      );
      for (const a of admitted) {
        const h = new Date(a.hour).getTime();
        const want = rows.filter(
          (row) =>
            (row.features as RequestFeatures).label === a.bin &&
            Math.floor(Date.parse(row.at as string) / 3_600_000) * 3_600_000 === h,
        ).length;
        assert.equal(a.n, want, `label ${a.bin} at ${a.hour}`);
      }
      // Attributes past the cap: their values are not counted at all; region's always are.
      const perAttribute = await db.query<{ hour: Date; features: number; region: number }>(
        `SELECT hour, count(DISTINCT feature)::int AS features,
                count(*) FILTER (WHERE feature = 'group:region')::int AS region
           FROM request_feature_rollup_hour WHERE model = 'caps' AND feature LIKE 'group:%' GROUP BY 1`,
      );
      assert.equal(perAttribute.length, 2);
      for (const p of perAttribute) {
        assert.equal(p.features, FEATURE_ATTRIBUTE_CAP, "one value feature per admitted attribute");
        assert.equal(p.region, 1, "region, seen first, is admitted");
      }

      for (const [from, to] of [
        ["2026-07-01T09:00:00Z", "2026-07-01T11:00:00Z"],
        ["2026-07-01T09:31:07Z", "2026-07-01T10:12:00Z"],
        ["2026-07-01T09:59:59Z", "2026-07-01T10:00:01Z"],
        ["2026-07-01T09:25:00Z", "2026-07-01T10:40:00Z"],
      ] as const) {
        const f = new Date(from);
        const t = new Date(to);
        const fast = await featureHistograms(db, "caps", ["ver_a"], f, t);
        const slow = await featureHistograms(db, "caps", ["ver_a"], f, t, { raw: true });
        assert.deepEqual(fast, slow, `[${from}, ${to})`);
        const h = fast.get("ver_a")!;
        const inWindow = rows.filter((row) => {
          const at = Date.parse(row.at as string);
          return at >= f.getTime() && at < t.getTime();
        }).length;
        assert.equal(
          Object.values(h.label ?? {}).reduce((a, b) => a + b, 0),
          inWindow,
          "every request once",
        );
        assert.equal(h["group:region"]?.eu ?? 0, inWindow);
      }
      const whole = (
        await featureHistograms(db, "caps", ["ver_a"], new Date(t0 - 3_600_000), new Date(t0 + 3 * 3_600_000))
      ).get("ver_a")!;
      assert.ok((whole.label?.[OTHER_BIN] ?? 0) > 0);
      assert.equal(whole.tokens_in?.["8"], 700, "10 tokens: the bin 8-11");
    });
  });
}
