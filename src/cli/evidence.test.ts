import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { SECTION_KEYS } from "../modules/cards/card-sections.ts";
import { runCliAs } from "../test-support/cli.ts";
import { ctx, type Harness, openHarness, SIM_PARAMS, storeTargets } from "../test-support/stores.ts";

const CARD = {
  metadata: { license: "mit" },
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k} text`])),
  extraSections: [],
};
const RULE = {
  name: "high-risk",
  match: { riskTiers: ["high"] },
  roles: { engineering: 1, compliance: 1 },
  evidence: ["card", "fairness"],
  signoffTtlDays: 30,
  allowSameSignerForMultipleRoles: false,
};

// Issue 14, item 4, as a user hits it: `evidence attach --kind fairness --passed` is a person's
// word. It says so everywhere, and it meets a rule only where the rule accepts attested reports.
describe("evidence provenance through the CLI: an attested pass is not a computed one", () => {
  let h: Harness;
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-evidence-"));
  const tokens: Record<string, string> = {};
  const as = (who: string, ...argv: string[]) => runCliAs(h.fetch, tokens[who]!, argv);
  const file = (name: string, body: unknown) => {
    const f = path.join(dir, name);
    writeFileSync(f, JSON.stringify(body));
    return f;
  };

  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    for (const [name, role] of [
      ["dora", "admin"],
      ["frank", "engineering"],
      ["erin", "engineering"],
      ["cora", "compliance"],
    ])
      tokens[name!] = await h.tokenFor(name!, [role!]);
    await h.services.registry.createModel(ctx("frank", ["engineering"]), {
      name: "loans",
      owner: "credit",
      description: "",
      useCases: ["credit"],
      riskTier: "high",
      tags: [],
    });
    for (const version of ["1.0.0", "1.1.0"])
      await h.services.registry.registerVersion(ctx("frank", ["engineering"]), "loans", {
        version,
        provider: "simulator",
        providerModelId: "sim",
        parameters: SIM_PARAMS,
        changelog: "",
        metrics: {},
        limitations: [],
        tags: [],
        card: CARD,
      });
  });
  after(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** frank attests a fairness pass, asks for approval, and both stakeholders sign. */
  async function attestedAndSigned(version: string): Promise<string> {
    const report = file(`any-${version}.json`, { looks: "fine" });
    const att = await as(
      "frank",
      "--json",
      "evidence",
      "attach",
      "loans",
      version,
      "--kind",
      "fairness",
      "--file",
      report,
      "--passed",
    );
    assert.equal(att.code, 0, att.err);
    assert.equal(JSON.parse(att.out).provenance, "attested");
    const req = await as("frank", "--json", "approvals", "request", "loans", version, "-s", "ship it");
    assert.equal(req.code, 0, req.err);
    const id = JSON.parse(req.out).id as string;
    assert.equal((await as("erin", "approvals", "approve", id, "--as", "engineering")).code, 0);
    const signed = await as("cora", "approvals", "approve", id, "--as", "compliance");
    assert.equal(signed.code, 0, signed.err);
    assert.match(signed.out, /evidence fairness passed, attested by frank/);
    return signed.out;
  }

  test("by default a rule asking for fairness is not met by a person's --passed", async () => {
    const set = await as("dora", "approvals", "policy", "set", "-f", file("strict.json", { rules: [RULE] }));
    assert.equal(set.code, 0, set.err);
    const out = await attestedAndSigned("1.0.0");
    assert.match(
      out,
      /✗ evidence:fairness: only fairness evidence computed by an evaluation run counts here/,
    );
    assert.match(out, /the fairness report attached by frank is attested, not computed/);

    const list = await as("dora", "evidence", "list", "loans", "1.0.0");
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /attested by frank/);

    const promote = await as("dora", "alias", "set", "loans", "production", "1.0.0", "--reason", "go");
    assert.equal(promote.code, 1);
    assert.match(promote.err, /evidence:fairness/);
    assert.match(promote.err, /attested, not computed/);
  });

  test("a rule that accepts attested fairness reports is met by one, and the approval says whose word it is", async () => {
    const lenient = { ...RULE, acceptAttested: ["fairness"] };
    const set = await as(
      "dora",
      "approvals",
      "policy",
      "set",
      "-f",
      file("lenient.json", { rules: [lenient] }),
    );
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /~ rule high-risk \(changed\)/);
    const out = await attestedAndSigned("1.1.0");
    assert.match(out, /APPROVED \(in force\)/);
    const promote = await as("dora", "alias", "set", "loans", "production", "1.1.0", "--reason", "go");
    assert.equal(promote.code, 0, promote.err);
    const asOf = await as("dora", "audit", "as-of", h.clock.advance(1000).toISOString(), "loans");
    assert.equal(asOf.code, 0, asOf.err);
    assert.match(asOf.out, /fairness sha256:[a-f0-9]{64} \(passed, attested by frank\)/);
  });
});
