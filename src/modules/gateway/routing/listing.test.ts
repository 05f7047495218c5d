import assert from "node:assert/strict";
import { test } from "node:test";
import { compileFlag, FlagSet } from "../../../engines/flags/index.ts";
import { modelRoute, routableVersion, SWITCH, snapshotOf } from "../../../test-support/routing-snapshot.ts";
import { listedModels } from "./listing.ts";
import { compileSplit } from "./split.ts";

const PROVIDER = { ...SWITCH, id: "ksw_2", scope: "provider" as const, target: "simulator" };
const ids = (s: Parameters<typeof listedModels>[0]) => listedModels(s).map((m) => `${m.id}=${m.version}`);

/** chat: 1.0.0 production, 1.1.0 canary, 1.2.0 with no alias; `killed` says which are switched off. */
function chat(killed: string[], o: Parameters<typeof modelRoute>[2] = {}, sw = SWITCH) {
  const vs = ["1.0.0", "1.1.0", "1.2.0"].map((v) =>
    routableVersion("chat", v, killed.includes(v) ? sw : null),
  );
  return modelRoute("chat", vs, { aliases: { production: "1.0.0", canary: "1.1.0" }, ...o });
}
const v = (m: ReturnType<typeof chat>, version: string) => m.versions.get(version)!;

test("/v1/models lists every alias that serves, the production alias as the bare name", () => {
  assert.deepEqual(ids(snapshotOf(chat([]))), ["chat=1.0.0", "chat@canary=1.1.0"]);
});

test("an alias whose version is switched off is listed only while a fallback serves", () => {
  assert.deepEqual(ids(snapshotOf(chat(["1.0.0"]))), ["chat@canary=1.1.0"], "no fallback: left out");
  const fb = chat(["1.0.0"]);
  fb.fallback = [v(fb, "1.2.0")];
  assert.deepEqual(ids(snapshotOf(fb)), ["chat=1.0.0", "chat@canary=1.1.0"], "its fallback serves it");
  const deadFb = chat(["1.0.0", "1.2.0"]);
  deadFb.fallback = [v(deadFb, "1.2.0"), v(deadFb, "1.0.0")];
  assert.deepEqual(
    ids(snapshotOf(deadFb)),
    ["chat@canary=1.1.0"],
    "a fallback chain all switched off serves nothing",
  );
  const canary = chat(["1.1.0"]);
  assert.deepEqual(ids(snapshotOf(canary)), ["chat=1.0.0"]);
  canary.fallback = [v(canary, "1.0.0")];
  assert.deepEqual(ids(snapshotOf(canary)), ["chat=1.0.0", "chat@canary=1.1.0"]);
});

test("a provider switch over every version takes the model off the list; another model stays", () => {
  const other = modelRoute("other", [routableVersion("other", "2.0.0", null, { provider: "openai" })]);
  assert.deepEqual(ids(snapshotOf(chat(["1.0.0", "1.1.0", "1.2.0"], {}, PROVIDER), other)), ["other=2.0.0"]);
});

test("the bare name stays while its split or its route's flag can reach a version that serves", () => {
  const split = chat(["1.0.0"]);
  split.split = compileSplit([
    { target: v(split, "1.0.0"), weight: 90 },
    { target: v(split, "1.2.0"), weight: 10 },
  ]);
  assert.deepEqual(
    ids(snapshotOf(split)),
    ["chat=1.0.0", "chat@canary=1.1.0"],
    "the 1.2.0 arm's subjects are served",
  );
  const deadSplit = chat(["1.0.0", "1.2.0"]);
  deadSplit.split = compileSplit([
    { target: v(deadSplit, "1.0.0"), weight: 90 },
    { target: v(deadSplit, "1.2.0"), weight: 10 },
  ]);
  assert.deepEqual(ids(snapshotOf(deadSplit)), ["chat@canary=1.1.0"]);

  const flagged = chat(["1.0.0"], { flag: "chat.version" });
  const flag = (variant: string) =>
    new FlagSet([
      compileFlag({
        key: "chat.version",
        type: "string",
        variants: { prod: "chat@production", other: variant },
        defaultVariant: "prod",
        enabled: true,
        rules: [],
      }),
    ]);
  assert.deepEqual(ids({ ...snapshotOf(flagged), flags: flag("chat@canary") }), [
    "chat=1.0.0",
    "chat@canary=1.1.0",
  ]);
  assert.deepEqual(ids({ ...snapshotOf(flagged), flags: flag("chat@1.2.0") }), [
    "chat=1.0.0",
    "chat@canary=1.1.0",
  ]);
  assert.deepEqual(ids({ ...snapshotOf(flagged), flags: flag("chat@production") }), ["chat@canary=1.1.0"]);
});

test("a version without an approval in force is not listed, fallback or not (it is refused, 403, before any fallback)", () => {
  const m = chat([]);
  m.versions.set("1.1.0", { ...v(m, "1.1.0"), refusal: "chat@1.1.0 is canary without an approval in force" });
  m.fallback = [v(m, "1.0.0")];
  assert.deepEqual(ids(snapshotOf(m)), ["chat=1.0.0"]);
});
