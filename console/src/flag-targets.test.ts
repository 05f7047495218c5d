import assert from "node:assert/strict";
import { test } from "node:test";
import { modelTargets } from "../../src/engines/flags/targets.ts";
import { routeModel, servedVersion } from "./flag-targets.ts";

test("a flag can be a route's only when every variant names the same model", () => {
  assert.equal(
    routeModel({ variants: { canary: "support-assistant@canary", pinned: "support-assistant@1.1.0" } }),
    "support-assistant",
  );
  assert.equal(routeModel({ variants: { a: "support-assistant@1.1.0", b: "summariser@1.0.0" } }), null);
  assert.equal(
    routeModel({ variants: { a: "support-assistant@1.1.0", off: "none" } }),
    null,
    "one variant names no model",
  );
  assert.equal(routeModel({ variants: { on: true, off: false } }), null);
});

test("the version a variant serves: its own, or the one its alias holds now", () => {
  const targets = modelTargets({
    variants: {
      canary: "support-assistant@canary",
      pinned: "support-assistant@1.1.0",
      gone: "support-assistant@old",
    },
  });
  const aliases = new Map([["support-assistant", { canary: "1.2.0", production: "1.1.0" }]]);
  assert.deepEqual(
    targets.map((t) => servedVersion(t, aliases)),
    ["support-assistant@1.2.0", "support-assistant@1.1.0", null],
  );
  assert.equal(
    servedVersion(targets[0]!, new Map([["support-assistant", null]])),
    null,
    "the model could not be read",
  );
});
