import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { seedModel } from "../../test-support/rollouts.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { parseSuiteObject } from "../evals/index.ts";
import type { FeedbackRecord } from "../request-log/index.ts";
import { createRetrainingService } from "./retraining.service.ts";

const MIN = 60_000;
const at = (hhmm: string) => new Date(`2026-03-01T${hhmm}:00.000Z`);
const chat = (user: string, extra: unknown[] = []) => ({
  request: {
    model: "ds",
    messages: [
      { role: "system", content: "You route support tickets." },
      ...extra,
      { role: "user", content: user },
    ],
  },
  response: [{ index: 0, message: { role: "assistant", content: "technical" } }],
});

for (const target of allStoreTargets()) {
  describe(`retraining dataset export on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let ids: Record<string, string>;
    let task = "";
    let fb = 0;
    const request = (
      id: string,
      when: string,
      o: {
        version?: string;
        body?: unknown;
        model?: string;
        shadowOf?: string;
        groups?: Record<string, string>;
      } = {},
    ) => {
      const model = o.model ?? "ds";
      const version = o.version ?? "1.0.0";
      const versionId = ids[`${model}@${version}`]!;
      h.services.requestLog.record({
        id,
        at: at(when),
        tokenId: "tok_a",
        client: "bot",
        model,
        versionId,
        version,
        routeReason: "alias:production",
        endpoint: "chat.completions",
        stream: false,
        status: 200,
        errorClass: null,
        totalMs: 100,
        upstreamMs: 90,
        tokensIn: 10,
        tokensOut: 10,
        costUsd: 0.001,
        fallbackPath: [{ versionId, version, outcome: "served", attempts: 1, durationMs: 90 }] as never,
        groups: o.groups ?? { language: "de" },
        sampledBody: o.body ?? null,
        shadowOf: o.shadowOf ?? null,
      });
    };
    const feedback = (requestId: string, when: string, f: Partial<FeedbackRecord>) =>
      h.services.feedbackLog.record({
        id: `fbk_ds_${fb++}`,
        requestId,
        at: at(when),
        success: null,
        score: null,
        labels: [],
        groups: {},
        comment: "",
        tokenId: "tok_a",
        client: "bot",
        ...f,
      });
    const dataset = (query: string, token?: string) =>
      h.request(`/api/v1/retraining/${task}/dataset?${query}`, {}, token);
    const lines = async (res: Response) => {
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.text()).split("\n").filter((l) => l !== "");
    };

    before(async () => {
      h = await openHarness(target);
      ids = { ...(await seedModel(h, "ds")), ...(await seedModel(h, "elsewhere")) };
      const corrected = "billing";
      // In the breached window [09:00, 10:00) of 1.0.0:
      request("req_a1", "09:10", {
        body: chat("Where is my invoice?"),
        groups: { language: "de", age_band: "65+" },
      });
      feedback("req_a1", "09:11", { success: false });
      feedback("req_a1", "09:40", { success: false, correction: corrected, comment: "reviewed" });
      request("req_a2", "09:12", { body: chat("My login fails") });
      feedback("req_a2", "09:13", { success: false });
      request("req_a3", "09:14"); // failed, but the body policy kept no body
      feedback("req_a3", "09:15", { success: false, correction: "account" });
      request("req_a4", "09:16", { body: chat("Thanks!") });
      feedback("req_a4", "09:17", { success: true });
      request("req_a5", "09:18", { body: chat("Refund please") });
      feedback("req_a5", "09:19", { success: false });
      feedback("req_a5", "09:30", { success: true }); // the latest feedback decides
      request("req_a6", "09:20", { body: chat("Cancel my plan") });
      feedback("req_a6", "09:21", { score: 1 });
      request("req_a7", "09:22", {
        body: chat("Look up order 7", [
          {
            role: "assistant",
            content: null,
            tool_calls: [{ id: "t1", type: "function", function: { name: "order", arguments: "{}" } }],
          },
          { role: "tool", tool_call_id: "t1", content: "shipped" },
        ]),
      });
      feedback("req_a7", "09:23", { success: false, correction: "shipping" });
      request("req_a8", "09:24", {
        body: {
          request: {
            model: "ds",
            messages: [
              {
                role: "user",
                content: [
                  { type: "text", text: "Part one." },
                  { type: "text", text: "Part two." },
                ],
              },
            ],
          },
          response: "x",
        },
      });
      feedback("req_a8", "09:25", { success: false, correction: "technical" });
      // Not in the slice: another version, a mirrored call, another model, outside the windows.
      request("req_b1", "09:30", { version: "1.1.0", body: chat("wrong version") });
      feedback("req_b1", "09:31", { success: false, correction: "x" });
      request("req_b2", "09:32", { body: chat("mirrored"), shadowOf: "req_a1" });
      feedback("req_b2", "09:33", { success: false, correction: "x" });
      request("req_b3", "09:34", { model: "elsewhere", body: chat("other model") });
      feedback("req_b3", "09:35", { success: false, correction: "x" });
      request("req_b4", "10:30", { body: chat("in a window that did not breach") });
      feedback("req_b4", "10:31", { success: false, correction: "x" });
      request("req_b5", "11:30", { body: chat("after the windows") });
      feedback("req_b5", "11:31", { success: false, correction: "x" });
      await h.services.requestLog.flush();
      await h.services.feedbackLog.flush();
      h.clock.advance(4 * 60 * MIN);
      const opened = await h.services.retraining.openOrExtend(
        {
          model: "ds",
          versionId: ids["ds@1.0.0"]!,
          rule: "success-drop",
          evidence: {
            metric: "success_rate",
            summary: "success 60% vs 90%",
            windows: [
              {
                from: "2026-03-01T10:00:00Z",
                to: "2026-03-01T11:00:00Z",
                value: 0.88,
                baseline: 0.9,
                n: 40,
                breached: false,
              },
              {
                from: "2026-03-01T09:00:00Z",
                to: "2026-03-01T10:00:00Z",
                value: 0.6,
                baseline: 0.9,
                n: 40,
                breached: true,
              },
            ],
          },
        },
        ctx("monitoring"),
      );
      task = opened.task.id;
    });
    after(() => h.cleanup());

    test("openai-jsonl: the failing requests of the breached windows, the correction as the assistant turn, else left to label", async () => {
      const res = await dataset("format=openai-jsonl");
      assert.equal(res.headers.get("content-type"), "application/jsonl; charset=utf-8");
      assert.match(
        res.headers.get("content-disposition") ?? "",
        /filename="retraining-rtk-[a-z0-9]+\.jsonl"/,
      );
      assert.equal(res.headers.get("x-modelgov-slice-failing"), "5");
      assert.equal(res.headers.get("x-modelgov-slice-exportable"), "4");
      assert.equal(res.headers.get("x-modelgov-slice-without-body"), "1");
      assert.equal(res.headers.get("x-modelgov-slice-corrected"), "3");
      const out = (await lines(res)).map((l) => JSON.parse(l));
      assert.equal(out.length, 4);
      for (const o of out) assert.deepEqual(Object.keys(o), ["messages"]);
      assert.deepEqual(out[0].messages, [
        { role: "system", content: "You route support tickets." },
        { role: "user", content: "Where is my invoice?" },
        { role: "assistant", content: "billing" },
      ]);
      assert.deepEqual(out[1].messages, [
        { role: "system", content: "You route support tickets." },
        { role: "user", content: "My login fails" },
      ]);
      assert.equal(out[2].messages[1].tool_calls[0].id, "t1");
      assert.equal(out[2].messages[2].tool_call_id, "t1");
      assert.deepEqual(out[2].messages.at(-1), { role: "assistant", content: "shipping" });
      assert.equal(out[3].messages.at(-1).content, "technical");

      const corrected = (await lines(await dataset("format=openai-jsonl&include=corrected"))).map((l) =>
        JSON.parse(l),
      );
      assert.deepEqual(
        corrected.map((o) => o.messages.at(-1).content),
        ["billing", "shipping", "technical"],
      );
      const scored = await dataset("format=openai-jsonl&scoreBelow=2");
      assert.equal(scored.headers.get("x-modelgov-slice-failing"), "6");
      const withScore = (await lines(scored)).map((l) => JSON.parse(l));
      assert.ok(withScore.some((o) => o.messages.at(-1).content === "Cancel my plan"));
    });

    test("suite: a valid modelgov suite of the corrected cases; what was left out is tallied in its description", async () => {
      const res = await dataset("format=suite");
      assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
      assert.equal(res.headers.get("x-modelgov-slice-exportable"), "3");
      const text = await res.text();
      const doc = JSON.parse(text);
      const suite = parseSuiteObject(doc, { baseDir: "/" });
      assert.equal(suite.name, doc.name);
      assert.match(suite.name, /^retraining-rtk-[a-z0-9]+$/);
      assert.deepEqual(
        suite.cases.map((c) => [c.id, c.expect, c.attributes]),
        [
          ["req_a1", { equals: "billing" }, { language: "de", age_band: "65+" }],
          ["req_a8", { equals: "technical" }, { language: "de" }],
        ],
      );
      assert.deepEqual(suite.cases[1]!.input.messages, [{ role: "user", content: "Part one.\nPart two." }]);
      assert.match(
        doc.description,
        /2 cases.*Left out: 1 failing requests whose body the body policy did not keep, 1 without a correction, 1 whose chat a suite cannot hold/,
      );
      // One case per line: the document streams.
      assert.equal(text.split("\n").filter((l) => l.startsWith('{"id":')).length, 2);
    });

    test("the export reads the slice page by page; bad queries and callers are refused", async () => {
      const small = createRetrainingService({
        db: h.db,
        clock: h.clock,
        approvalOf: async () => ({ ok: false, requestId: null, unmet: [] }),
        runs: { get: async () => null, cases: async () => [] },
        slicePage: 1,
      });
      const d = await small.dataset(task, { format: "openai-jsonl", include: "all" });
      const got: string[] = [];
      for await (const l of d.lines) got.push(l);
      assert.equal(got.length, 4);
      assert.deepEqual(d.ranges, [
        { versionId: ids["ds@1.0.0"], from: "2026-03-01T09:00:00.000Z", to: "2026-03-01T10:00:00.000Z" },
      ]);
      const bad = await dataset("format=csv");
      assert.equal(bad.status, 400);
      assert.equal((await readJson(bad)).errors[0].field, "query.format");
      assert.equal((await dataset("format=suite&scoreBelow=low")).status, 400);
      assert.equal((await h.request("/api/v1/retraining/rtk_nope/dataset?format=suite")).status, 404);
      const viewer = await h.tokenFor("vic", ["viewer"]);
      assert.equal((await dataset("format=suite", viewer)).status, 403);
      const engineer = await h.tokenFor("erin", ["engineering"]);
      assert.equal((await dataset("format=suite", engineer)).status, 200);
    });
  });
}
