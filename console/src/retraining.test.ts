import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  deliveriesOf,
  evidenceUnit,
  metricTitle,
  sortTasks,
  stepsOf,
  subscribes,
  type Transition,
  testOf,
  type Verdict,
  verdictFigures,
  windowsOf,
} from "./retraining.ts";

const move = (from: Transition["from"], to: Transition["to"], minute: number, actor = "eve"): Transition => ({
  from,
  to,
  reason: `${to} reason`,
  actor,
  at: new Date(Date.UTC(2026, 2, 1, 9, minute)).toISOString(),
});
const shape = (t: Parameters<typeof stepsOf>[0]) => stepsOf(t).map((s) => `${s.state}:${s.status}`);

describe("a retraining task's steps", () => {
  test("a task in training: open done, training current, the rest ahead with no move", () => {
    const history = [move(null, "open", 0, "monitoring"), move("open", "training", 5)];
    const steps = stepsOf({ state: "training", history });
    assert.deepEqual(
      steps.map((s) => `${s.state}:${s.status}`),
      [
        "open:done",
        "training:current",
        "candidate_registered:ahead",
        "evaluated:ahead",
        "approved:ahead",
        "rolled_out:ahead",
        "closed:ahead",
      ],
    );
    assert.equal(steps[0]!.move?.actor, "monitoring");
    assert.equal(steps[1]!.move?.at, "2026-03-01T09:05:00.000Z");
    assert.equal(steps[2]!.move, null);
  });

  test("a task dismissed while training: the step it left is done, the rest never reached, the dismissal last", () => {
    const history = [
      move(null, "open", 0),
      move("open", "training", 5),
      move("training", "dismissed", 9, "carol"),
    ];
    const steps = stepsOf({ state: "dismissed", history });
    assert.deepEqual(steps.map((s) => `${s.state}:${s.status}`).slice(0, 3), [
      "open:done",
      "training:done",
      "candidate_registered:ahead",
    ]);
    assert.deepEqual(
      { state: steps.at(-1)!.state, status: steps.at(-1)!.status, actor: steps.at(-1)!.move?.actor },
      { state: "dismissed", status: "current", actor: "carol" },
    );
    assert.equal(steps.length, 8);
  });

  test("a new candidate after an evaluation sends the task back: evaluated is ahead again, the candidate's latest move shown", () => {
    const history = [
      move(null, "open", 0),
      move("open", "training", 1),
      move("training", "candidate_registered", 2),
      move("candidate_registered", "evaluated", 3),
      move("evaluated", "candidate_registered", 4, "rita"),
    ];
    const steps = stepsOf({ state: "candidate_registered", history });
    assert.deepEqual(shape({ state: "candidate_registered", history }).slice(2, 4), [
      "candidate_registered:current",
      "evaluated:ahead",
    ]);
    assert.equal(steps[2]!.move?.actor, "rita");
  });

  test("a closed task: every step done up to closed, which is current", () => {
    const states = [
      "open",
      "training",
      "candidate_registered",
      "evaluated",
      "approved",
      "rolled_out",
      "closed",
    ];
    const history = states.map((s, i) => move((states[i - 1] as Transition["from"]) ?? null, s as never, i));
    assert.deepEqual(shape({ state: "closed", history }), [
      ...states.slice(0, -1).map((s) => `${s}:done`),
      "closed:current",
    ]);
  });
});

describe("a model's tasks in order", () => {
  test("the active task first, then the ended ones newest first", () => {
    const t = (id: string, state: Transition["to"], day: number) => ({
      id,
      state,
      openedAt: new Date(Date.UTC(2026, 2, day)).toISOString(),
    });
    assert.deepEqual(
      sortTasks([
        t("a", "closed", 9),
        t("b", "dismissed", 3),
        t("c", "training", 1),
        t("d", "closed", 5),
      ]).map((x) => x.id),
      ["c", "a", "d", "b"],
    );
  });
});

describe("a monitor's evidence", () => {
  test("windows oldest first with the numbers as sent; entries without times or with wrong types are dropped or nulled", () => {
    const ws = windowsOf({
      windows: [
        {
          from: "2026-03-02T00:00:00Z",
          to: "2026-03-03T00:00:00Z",
          value: 0.71,
          baseline: 0.84,
          threshold: 0.756,
          n: 812,
          p: 0.00002,
          breached: true,
          reason: "below",
        },
        {
          from: "2026-03-01T00:00:00Z",
          to: "2026-03-02T00:00:00Z",
          value: "0.8",
          baseline: null,
          n: 790,
          breached: false,
        },
        { to: "2026-03-02T00:00:00Z", value: 1 },
        "nonsense",
      ],
    });
    assert.deepEqual(
      ws.map((w) => [w.from.slice(0, 10), w.value, w.baseline, w.threshold, w.n, w.p, w.breached, w.reason]),
      [
        ["2026-03-01", null, null, null, 790, null, false, null],
        ["2026-03-02", 0.71, 0.84, 0.756, 812, 0.00002, true, "below"],
      ],
    );
    assert.deepEqual(windowsOf({ windows: "none" }), []);
  });

  test("the test an outside monitor names, as an object or a string", () => {
    assert.equal(testOf({ test: { name: "two-proportion z", alpha: 0.01 } }), "two-proportion z");
    assert.equal(testOf({ test: "KS" }), "KS");
    assert.equal(testOf({}), null);
  });

  test("the metric's unit and title: a monitor's subject, a drift statistic of a feature, an outside monitor's snake_case", () => {
    assert.deepEqual(
      [
        ["successRate", "metric"],
        ["success_rate", undefined],
        ["latencyP95", undefined],
        ["psi:tokens_in", "drift"],
        ["bias", "bias"],
        ["custom_metric", undefined],
      ].map(([m, k]) => [evidenceUnit(m!, k), metricTitle(m!, k)]),
      [
        ["rate", "Success rate"],
        ["rate", "Success rate"],
        ["ms", "p95 latency"],
        ["statistic", "PSI of Input tokens"],
        ["points", "Bias gap"],
        ["score", "custom_metric"],
      ],
    );
  });
});

const verdict = (over: Partial<Verdict> = {}): Verdict => ({
  passed: true,
  metric: "successRate",
  basis: "pass_rate",
  test: "mcnemar_exact",
  direction: "higher_is_better",
  alpha: 0.05,
  pairs: 120,
  unpaired: 0,
  candidate: { run: "evr_c", version: "1.1.0", value: 0.95 },
  production: { run: "evr_p", version: "1.0.0", value: 0.6 },
  difference: 0.35,
  p: 0.0000012,
  details: {},
  suite: { name: "slice", hash: "sha256:ab" },
  reasons: [],
  at: "2026-03-01T09:00:00.000Z",
  ...over,
});

describe("an evaluation verdict's figures", () => {
  test("pass rates as percentages, the difference in points with its sign, McNemar named, p in exponent form", () => {
    assert.deepEqual(verdictFigures(verdict()), {
      basis: "pass rate",
      candidate: "95.0%",
      production: "60.0%",
      difference: "+35.0 pts",
      test: "exact McNemar test",
      p: "1.2e-6",
      better: "higher is better",
    });
  });

  test("latency in ms with a minus sign for an improvement; no difference when a side had none", () => {
    const f = verdictFigures(
      verdict({
        basis: "latency_ms",
        test: "paired_t",
        direction: "lower_is_better",
        candidate: { run: "c", version: "1.1.0", value: 812.4 },
        production: { run: "p", version: "1.0.0", value: 1040 },
        difference: -227.6,
        p: 0.012,
      }),
    );
    assert.deepEqual(
      [f.candidate, f.production, f.difference, f.test, f.p],
      ["812 ms", "1,040 ms", "−228 ms", "paired t-test", "0.012"],
    );
    assert.equal(verdictFigures(verdict({ difference: null })).difference, "–");
  });
});

describe("the task's webhook deliveries", () => {
  test("a subscription receives an action by exact name, by prefix pattern or by *", () => {
    assert.equal(subscribes(["retraining.*"], "retraining.opened"), true);
    assert.equal(subscribes(["*"], "retraining.dismissed"), true);
    assert.equal(subscribes(["retraining.opened"], "retraining.opened"), true);
    assert.equal(subscribes(["retraining.opened", "monitor.*"], "retraining.dismissed"), false);
    assert.equal(subscribes(["retrain.*"], "retraining.opened"), false);
  });

  test("only deliveries of the task's audit events, newest event first", () => {
    const d = (auditId: string, seq: number) => ({ auditId, seq });
    assert.deepEqual(
      deliveriesOf([d("aud_1", 1), d("aud_x", 2), d("aud_3", 3)], new Set(["aud_1", "aud_3"])).map(
        (x) => x.seq,
      ),
      [3, 1],
    );
  });
});
