// OFREP through OpenFeature's web SDK (issue 19, point 5): the client-side provider fetches every
// flag in one bulk request for the current context, serves evaluations from that cache, and
// polls with If-None-Match — so a flag change reaches it, and an unchanged set costs a 304.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { getRequestListener } from "@hono/node-server";
import { OFREPWebProvider } from "@openfeature/ofrep-web-provider";
import { OpenFeature, ProviderEvents } from "@openfeature/web-sdk";
import { DEMO_FLAG, seedDemo } from "../../demo/seed.ts";
import { waitFor } from "../../test-support/flaky-db.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../test-support/stores.ts";
import { FlagInputSchema } from "./flags.schemas.ts";

const banner = (on: boolean) =>
  FlagInputSchema.parse({
    key: "web.banner",
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: on ? "on" : "off",
  });

for (const target of allStoreTargets()) {
  describe(`OFREP with the web SDK on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let server: Server;
    let baseUrl: string;
    const statuses: number[] = [];
    before(async () => {
      h = await openHarness(target);
      await seedDemo(h.services);
      await h.services.flags.put(ctx(), banner(false), "create");
      const listener = getRequestListener(h.app.fetch);
      server = createServer((req, res) => {
        if (req.url?.startsWith("/ofrep/v1/evaluate/flags"))
          res.on("finish", () => statuses.push(res.statusCode));
        return listener(req, res);
      });
      await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await OpenFeature.close();
      await new Promise((ok) => server.close(ok));
      await h.cleanup();
    });

    test("bulk for the context, re-fetched when the context changes, polled with ETag: a change arrives, no change is a 304", async () => {
      const agent = await h.tokenFor("web", ["agent"]);
      await OpenFeature.setContext({ targetingKey: "u1", tenant: "internal" });
      await OpenFeature.setProviderAndWait(
        new OFREPWebProvider({
          baseUrl,
          headers: [["Authorization", `Bearer ${agent}`]],
          pollInterval: 100,
          disableVisibilityRefresh: true,
        }),
      );
      const client = OpenFeature.getClient();
      const internal = client.getStringDetails(DEMO_FLAG.key, "none");
      assert.deepEqual(
        [internal.value, internal.variant, internal.reason],
        ["support-assistant@canary", "canary", "TARGETING_MATCH"],
      );
      assert.equal(client.getBooleanValue("web.banner", true), false);

      await OpenFeature.setContext({ targetingKey: "u2", tenant: "acme" });
      const other = client.getStringDetails(DEMO_FLAG.key, "none");
      assert.deepEqual([other.value, other.reason], ["support-assistant@production", "DEFAULT"]);

      // Unchanged flags: the polls answer 304 from the ETag.
      await waitFor(() => statuses.includes(304), 5000, "a 304 poll");
      let changed = 0;
      client.addHandler(ProviderEvents.ConfigurationChanged, () => changed++);
      await h.services.flags.put(ctx(), banner(true), "upsert");
      // The poll updates the cache, then the provider announces it (an event, after the cache).
      await waitFor(
        () => client.getBooleanValue("web.banner", false) && changed >= 1,
        5000,
        "the change to reach the web SDK, announced as ConfigurationChanged",
      );
      assert.ok(
        statuses.every((s) => s === 200 || s === 304),
        statuses.join(),
      );
    });
  });
}
