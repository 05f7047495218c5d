import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import { createAdapters } from "../../providers/index.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../test-support/stores.ts";
import { VersionCreateSchema } from "../registry/registry.schemas.ts";
import { createEvalsService } from "./evals.service.ts";
import { createEvalInvoker, type EvalInvoker } from "./invoker.ts";
import { createEvalWorker } from "./worker.ts";

const suite = (scorers: unknown[]) => ({
  name: "judged",
  scorers,
  cases: Array.from({ length: 8 }, (_, i) => ({
    id: `j${i}`,
    input: { messages: [{ role: "user", content: `question ${i}` }] },
    expect: { label: i % 2 ? "yes" : "no" },
  })),
});

for (const target of allStoreTargets()) {
  describe(`LLM-judge and custom scorers in a run on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let dir: string;
    const judgePrompts: string[] = [];

    before(async () => {
      h = await openHarness(target);
      dir = mkdtempSync(path.join(os.tmpdir(), "modelgov-scorers-"));
      writeFileSync(
        path.join(dir, "short.mjs"),
        "export default ({ output }) => ({ score: output.length <= 3 ? 1 : 0, reason: 'length ' + output.length });\n",
      );
      await h.services.registry.createModel(ctx(), {
        name: "yesno",
        owner: "team",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
      for (const [model, version] of [
        ["yesno", "1.0.0"],
        ["judge", "1.0.0"],
      ] as const) {
        if (model === "judge")
          await h.services.registry.createModel(ctx(), {
            name: "judge",
            owner: "team",
            description: "",
            useCases: [],
            riskTier: "low",
            tags: [],
          });
        await h.services.registry.registerVersion(
          ctx(),
          model,
          VersionCreateSchema.parse({
            version,
            provider: "simulator",
            providerModelId: "sim",
            parameters: { latencyMs: { p50: 0, p95: 0 }, quality: { success: 1 }, seed: 1 },
          }),
        );
      }
    });
    after(async () => {
      await h.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test("every case gets the built-in, the judge's and the custom verdict; the judge sees the rubric", async () => {
      const judgeId = await h.services.evals.resolveRef("judge@1.0.0");
      const real = createEvalInvoker({ db: h.db, adapters: createAdapters(), apiKeyFor: () => undefined });
      // The judge answers as a grader would: a high score for a short answer.
      const invoker: EvalInvoker = {
        async call(versionId, messages, c) {
          if (versionId !== judgeId) return real.call(versionId, messages, c);
          const prompt = messages.map((m) => m.content).join("\n");
          judgePrompts.push(prompt);
          const user = messages[messages.length - 1]!.content;
          const answer = /<answer>\n([\s\S]*?)\n<\/answer>/.exec(user)?.[1] ?? "";
          const score = answer.trim().length <= 3 ? 0.9 : 0.1;
          return {
            text: `{"score": ${score}, "reason": "graded"}`,
            toolCalls: [],
            tokensIn: 50,
            tokensOut: 8,
            upstreamMs: 1,
            costUsd: 0,
          };
        },
      };
      const evals = createEvalsService({
        db: h.db,
        clock: h.clock,
        approvals: h.services.approvals,
        cards: h.services.cards,
        scorersDir: dir,
      });
      const worker = createEvalWorker({
        db: h.db,
        clock: h.clock,
        evals,
        invoker,
        logger: createLogger("silent"),
        scorersDir: dir,
        intervalMs: 50,
      });
      worker.start();
      try {
        const run = await evals.start(
          ctx(),
          "yesno",
          "1.0.0",
          suite([
            { kind: "label", labels: ["yes", "no"] },
            {
              kind: "llm_judge",
              model: "judge@1.0.0",
              rubric: "Short and correct answers score high.",
              passAt: 0.5,
            },
            { kind: "custom", module: "./short.mjs", name: "short" },
          ]),
        );
        let done: Awaited<ReturnType<typeof evals.get>> = run;
        for (let i = 0; i < 200 && done.status === "running"; i++) {
          await new Promise((r) => setTimeout(r, 50));
          done = await evals.get(run.id);
        }
        assert.equal(done.status, "completed");
        const cases = await evals.cases(run.id, {});
        assert.equal(cases.length, 8);
        for (const c of cases) {
          assert.deepEqual(
            c.scorers.map((s) => [s.kind, s.passed]),
            [
              ["label", true],
              ["llm_judge", true],
              ["custom:short", true],
            ],
            JSON.stringify(c),
          );
          assert.equal(c.passed, true);
        }
        assert.equal(judgePrompts.length, 8);
        assert.ok(judgePrompts.every((p) => p.includes("Short and correct answers score high.")));
        assert.equal(done.report!.aggregate.successRate, 1);
      } finally {
        await worker.stop();
      }
    });

    test("a server without a scorer directory refuses custom scorers; an unknown judge is named", async () => {
      await assert.rejects(
        () =>
          h.services.evals.start(ctx(), "yesno", "1.0.0", suite([{ kind: "custom", module: "./short.mjs" }])),
        (e: Error & { errors?: { field: string }[] }) =>
          /custom scorers are disabled on this server/.test(e.message) &&
          e.errors?.[0]?.field === "suite.scorers",
      );
      await assert.rejects(
        () =>
          h.services.evals.start(
            ctx(),
            "yesno",
            "1.0.0",
            suite([{ kind: "llm_judge", model: "nobody@1.0.0", rubric: "x", passAt: 0.5 }]),
          ),
        /judge model nobody@1\.0\.0 not found/,
      );
    });
  });
}
