import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEMO_FLAG, seedDemo } from "../../../demo/seed.ts";
import { createLogger } from "../../../lib/logger.ts";
import { openPostgres } from "../../../store/db.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../../test-support/stores.ts";
import { FlagInputSchema } from "../../flags/index.ts";
import { isRefusal, resolve } from "./resolve.ts";
import type { RoutingSnapshot } from "./snapshot.ts";
import { createRoutingState, type RoutingState } from "./state.ts";

const logger = createLogger("silent");
/** Longer than any test: a state refreshes only when a change's notification reaches it. */
const NO_SAFETY_REFRESH = 3_600_000;
/** A cap on a wait that never ends (a lost notification): the test fails instead of hanging. */
const HANG_GUARD = { timeout: 60_000 };

for (const target of allStoreTargets()) {
  describe(`gateway routing on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let state: RoutingState;
    before(async () => {
      h = await openHarness(target);
      await seedDemo(h.services);
      state = createRoutingState({
        db: h.db,
        logger,
        approvedIds: h.services.approvedIds,
        safetyIntervalMs: NO_SAFETY_REFRESH,
      });
      await state.start();
    });
    after(async () => {
      await state.stop();
      await h.cleanup();
    });

    /**
     * Resolves with the first snapshot past `position` that `routing` takes in. The safety
     * refresh is an hour away, so only the change's notification can bring it: waiting on the
     * event, not the clock, shows the path without a bound on the time a busy machine takes.
     */
    const nextSnapshot = (routing: RoutingState, position: number) =>
      new Promise<RoutingSnapshot>((resolve) =>
        routing.onChange((snap) => {
          if (snap.position > position) resolve(snap);
        }),
      );

    test("a bare model name routes to production; aliases resolve; unknown models and aliases are refused", () => {
      const s = state.current();
      const r = resolve(s, "support-assistant", "u1", "req");
      assert.ok(!isRefusal(r));
      assert.equal(r.chain[0]!.version, "1.1.0");
      assert.equal(r.reason, "alias:production");
      assert.deepEqual(resolve(s, "nope", undefined, "r"), {
        status: 404,
        code: "not_found",
        detail: "model 'nope' is not registered",
      });
      assert.equal(
        (resolve(s, "support-assistant@nightly", undefined, "r") as { status: number }).status,
        404,
      );
    });

    test("an unapproved canary is refused; pinning needs the route to allow it", async () => {
      const s = state.current();
      // The demo leaves 1.2.0's approval pending: it may not serve.
      const refused = resolve(s, "support-assistant@canary", undefined, "r");
      assert.ok(isRefusal(refused));
      assert.equal(refused.status, 403);
      assert.match(refused.detail, /without an approval in force/);
      assert.match(
        (resolve(s, "support-assistant@1.0.0", undefined, "r") as { detail: string }).detail,
        /does not allow pinning/,
      );
    });

    test(
      "a route change reaches the in-memory state by its notification: split, fallback, pinning",
      HANG_GUARD,
      async () => {
        const before = state.current().position;
        const next = nextSnapshot(state, before);
        await h.services.routes.set(ctx(), "support-assistant", {
          shadow: null,
          splitScope: null,
          split: [
            { version: "1.0.0", weight: 90 },
            { version: "1.1.0", weight: 10 },
          ],
          fallback: ["1.0.0"],
          allowPinning: true,
          prices: { "1.1.0": { inputPer1kUsd: 0.5, outputPer1kUsd: 1.5 } },
        });
        await next;
        const s = state.current();
        const r = resolve(s, "support-assistant", "user-42", "r");
        assert.ok(!isRefusal(r));
        assert.match(r.reason, /^split:90\/10 bucket=\d+$/);
        const again = resolve(s, "support-assistant", "user-42", "r2");
        assert.ok(!isRefusal(again));
        assert.equal(again.chain[0]!.id, r.chain[0]!.id, "sticky");
        const pinned = resolve(s, "support-assistant@1.1.0", undefined, "r");
        assert.ok(!isRefusal(pinned));
        assert.equal(pinned.reason, "pinned");
        assert.deepEqual(
          pinned.chain.map((v) => v.version),
          ["1.1.0", "1.0.0"],
        );
        assert.deepEqual(pinned.chain[0]!.price, { inputPer1kUsd: 0.5, outputPer1kUsd: 1.5 });
      },
    );

    test("route config refuses unknown and retired versions, naming the field", async () => {
      await assert.rejects(
        h.services.routes.set(ctx(), "support-assistant", {
          shadow: null,
          splitScope: null,
          split: [{ version: "9.9.9", weight: 1 }],
          fallback: [],
          allowPinning: false,
          prices: {},
        }),
        /body\.split\.0\.version/,
      );
    });

    test(
      "a route deferring to a flag: the flag's variant serves per context, and a flag change reaches the gateway by its notification",
      HANG_GUARD,
      async () => {
        const cfg = {
          shadow: null,
          splitScope: null,
          split: null,
          fallback: [],
          allowPinning: false,
          prices: {},
        };
        await assert.rejects(
          h.services.routes.set(ctx(), "support-assistant", { ...cfg, flag: "no-such-flag" }),
          (e: Error & { field?: string }) => /body\.flag/.test(`${e.field} ${e.message}`),
        );
        await h.services.flags.put(
          ctx(),
          FlagInputSchema.parse({
            key: "elsewhere",
            type: "string",
            variants: { a: "support-assistant@production", b: "other-model@production" },
            defaultVariant: "a",
          }),
          "create",
          { skipReleaseGate: true },
        );
        await assert.rejects(
          h.services.routes.set(ctx(), "support-assistant", { ...cfg, flag: "elsewhere" }),
          /variant 'b' of 'elsewhere' is "other-model@production": a route's flag names support-assistant@<version\|alias>/,
        );
        // The first snapshot the state takes in (or holds) where `holds`: waits on the change's notification.
        const until = (holds: (s: RoutingSnapshot) => boolean) =>
          new Promise<RoutingSnapshot>((done) => {
            if (holds(state.current())) done(state.current());
            state.onChange((snap) => holds(snap) && done(snap));
          });
        const route = (s: RoutingSnapshot) => s.models.get("support-assistant")!;
        // The demo's flag: tenant=internal gets support-assistant@canary, everyone else production.
        await h.services.routes.set(ctx(), "support-assistant", { ...cfg, flag: DEMO_FLAG.key });
        assert.equal((await h.services.routes.get("support-assistant")).flag, DEMO_FLAG.key);
        let s = await until((x) => route(x).flag === DEMO_FLAG.key);
        const acme = resolve(s, "support-assistant", "u1", "r", false, {
          context: () => ({ tenant: "acme" }),
        });
        assert.ok(!isRefusal(acme));
        assert.equal(acme.reason, `flag:${DEMO_FLAG.key}=production (DEFAULT); alias:production`);
        assert.equal(acme.chain[0]!.version, "1.1.0");
        // The demo's canary (1.2.0) has no approval in force: the flag may not send anyone there.
        const internal = resolve(s, "support-assistant", "u1", "r", false, {
          context: () => ({ tenant: "internal" }),
        });
        assert.ok(isRefusal(internal));
        assert.equal(internal.status, 502);
        assert.match(
          internal.detail,
          /canary \(TARGETING_MATCH\) names support-assistant@canary, which cannot serve/,
        );
        await h.services.flags.setEnabled(ctx(), DEMO_FLAG.key, false);
        s = await until((x) => x.flags?.get(DEMO_FLAG.key)?.definition.enabled === false);
        const off = resolve(s, "support-assistant", "u1", "r", false, {
          context: () => ({ tenant: "internal" }),
        });
        assert.ok(!isRefusal(off));
        assert.equal(off.reason, `alias:production; flag:${DEMO_FLAG.key} DISABLED`);
        // While the route defers to it, the flag is not turned to another model, nor deleted.
        await assert.rejects(
          h.services.flags.put(
            ctx(),
            FlagInputSchema.parse({
              ...DEMO_FLAG,
              variants: { ...DEMO_FLAG.variants, production: "other-model@production" },
            }),
            "upsert",
            { skipReleaseGate: true },
          ),
          /variants\.production: the route of support-assistant defers to this flag/,
        );
        await assert.rejects(
          h.services.flags.remove(ctx(), DEMO_FLAG.key),
          /the route of support-assistant defers to flag support-assistant\.version: change the route first/,
        );
        await h.services.routes.set(ctx(), "support-assistant", cfg);
        assert.equal(route(await until((x) => route(x).flag === null)).flag, null);
      },
    );

    // Two replicas: each its own store connection and its own in-memory state.
    test("a change made through one replica reaches another replica's memory by its notification", {
      ...HANG_GUARD,
      skip:
        target.name !== "postgres" &&
        "two replicas need two connections to one PostgreSQL server (embedded PGlite has one): runs in the suite on postgres",
    }, async () => {
      const url = h.db.url;
      assert.ok(url, "the harness exposes its database URL");
      const other = openPostgres(url);
      const replica = createRoutingState({
        db: other,
        logger,
        approvedIds: async () => new Set(),
        safetyIntervalMs: NO_SAFETY_REFRESH,
      });
      await replica.start();
      try {
        const before = replica.current().position;
        const next = nextSnapshot(replica, before);
        await h.services.routes.set(ctx(), "support-assistant", {
          shadow: null,
          splitScope: null,
          split: null,
          fallback: [],
          allowPinning: false,
          prices: {},
        });
        assert.equal((await next).models.get("support-assistant")!.split, null);
      } finally {
        await replica.stop();
        await other.close();
      }
    });
  });
}
