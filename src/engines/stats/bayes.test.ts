import assert from "node:assert/strict";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { type BetaParams, betaBinomialTest, betaCredibleInterval, probabilityBetaGreater } from "./bayes.ts";
import { logBeta } from "./special-functions.ts";

// Evan Miller, "Formulas for Bayesian A/B testing" (2015): for integer b.alpha,
// P(Y > X) = sum_{i=0}^{b.alpha-1} B(a.alpha+i, a.beta+b.beta) / ((b.beta+i) B(1+i, b.beta) B(a.alpha, a.beta)).
// A finite sum, independent of the quadrature under test.
function evanMiller(a: BetaParams, b: BetaParams): number {
  let sum = 0;
  for (let i = 0; i < b.alpha; i++) {
    sum += Math.exp(
      logBeta(a.alpha + i, a.beta + b.beta) -
        Math.log(b.beta + i) -
        logBeta(1 + i, b.beta) -
        logBeta(a.alpha, a.beta),
    );
  }
  return sum;
}

test("Evan Miller closed form: integer posteriors from small to 10^4 trials", () => {
  const cases: [BetaParams, BetaParams][] = [
    [
      { alpha: 1, beta: 1 },
      { alpha: 1, beta: 1 },
    ],
    [
      { alpha: 13, beta: 73 },
      { alpha: 20, beta: 70 },
    ],
    [
      { alpha: 2, beta: 9 },
      { alpha: 1, beta: 3 },
    ],
    [
      { alpha: 41, beta: 960 },
      { alpha: 30, beta: 971 },
    ],
    [
      { alpha: 1001, beta: 9001 },
      { alpha: 1101, beta: 8901 },
    ],
    [
      { alpha: 5, beta: 400 },
      { alpha: 60, beta: 350 },
    ],
  ];
  for (const [a, b] of cases) {
    near(
      probabilityBetaGreater(a, b),
      evanMiller(a, b),
      1e-10,
      `P(Beta(${b.alpha},${b.beta}) > Beta(${a.alpha},${a.beta}))`,
    );
  }
});

test("mpmath (30 digits): reference values, including non-integer and U-shaped densities", () => {
  // mpmath.quad of I_x(a) * density_b(x), and Evan Miller's sum for the integer cases.
  near(
    probabilityBetaGreater({ alpha: 13, beta: 73 }, { alpha: 20, beta: 70 }),
    0.8902048770612828,
    1e-12,
    "13/73 vs 20/70",
  );
  near(
    probabilityBetaGreater({ alpha: 1001, beta: 9001 }, { alpha: 1101, beta: 8901 }),
    0.989457354431714,
    1e-12,
    "1001/9001 vs 1101/8901",
  );
  near(
    probabilityBetaGreater({ alpha: 100001, beta: 900001 }, { alpha: 101001, beta: 899001 }),
    0.9906586836367128,
    1e-10,
    "10^6 trials",
  );
  near(
    probabilityBetaGreater({ alpha: 0.5, beta: 3.2 }, { alpha: 2.7, beta: 0.8 }),
    0.9820498597849587,
    1e-12,
    "Beta(2.7, 0.8) > Beta(0.5, 3.2)",
  );
  near(
    probabilityBetaGreater({ alpha: 0.3, beta: 0.3 }, { alpha: 0.2, beta: 0.9 }),
    0.2530089296421896,
    1e-12,
    "U-shaped",
  );
  near(
    probabilityBetaGreater({ alpha: 3.5, beta: 997.5 }, { alpha: 9.5, beta: 991.5 }),
    0.9609977568554888,
    1e-12,
    "Jeffreys prior",
  );
});

test("P(Y > X) + P(X > Y) = 1, and identical distributions give 1/2", () => {
  const a = { alpha: 7.5, beta: 30 };
  const b = { alpha: 9, beta: 28.25 };
  near(probabilityBetaGreater(a, b) + probabilityBetaGreater(b, a), 1, 1e-12, "complement");
  near(probabilityBetaGreater(b, b), 0.5, 1e-12, "identical");
});

test("betaBinomialTest: uniform prior posteriors, credible intervals (scipy beta.ppf) and chance to beat control", () => {
  const r = betaBinomialTest({ successes: 12, n: 84 }, { successes: 19, n: 88 });
  assert.deepEqual([r.control.alpha, r.control.beta, r.treatment.alpha, r.treatment.beta], [13, 73, 20, 70]);
  near(r.control.mean, 13 / 86, 1e-15, "control mean");
  near(r.control.ci[0], 0.08402572037779504, 1e-9, "control ci lower");
  near(r.control.ci[1], 0.2336246188550202, 1e-9, "control ci upper");
  near(r.treatment.ci[0], 0.1429948758235286, 1e-9, "treatment ci lower");
  near(r.treatment.ci[1], 0.3131317634341264, 1e-9, "treatment ci upper");
  near(r.chanceToBeatControl, 0.8902048770612828, 1e-12, "chanceToBeatControl");
});

test("betaBinomialTest: Jeffreys prior and a 90% interval (scipy beta.ppf(0.05/0.95, 3.5, 997.5))", () => {
  const r = betaBinomialTest(
    { successes: 3, n: 1000 },
    { successes: 9, n: 1000 },
    { prior: { alpha: 0.5, beta: 0.5 }, alpha: 0.1 },
  );
  near(r.control.ci[0], 0.0010844434421309827, 1e-9, "ci lower");
  near(r.control.ci[1], 0.007017642212327069, 1e-9, "ci upper");
  near(r.chanceToBeatControl, 0.9609977568554888, 1e-12, "chanceToBeatControl");
  near(betaCredibleInterval({ alpha: 101, beta: 1001 })[0], 0.07533951469919471, 1e-9, "interval lower");
  near(betaCredibleInterval({ alpha: 101, beta: 1001 })[1], 0.10936678456746801, 1e-9, "interval upper");
});

test("invalid input is a RangeError naming the argument", () => {
  assert.throws(() => betaBinomialTest({ successes: 5, n: 4 }, { successes: 1, n: 4 }), {
    name: "RangeError",
    message: /betaBinomialTest: control\.successes must not exceed control\.n/,
  });
  assert.throws(
    () => betaBinomialTest({ successes: 1, n: 4 }, { successes: 1, n: 4 }, { prior: { alpha: 0, beta: 1 } }),
    { name: "RangeError", message: /options\.prior\.alpha must be > 0/ },
  );
  assert.throws(() => probabilityBetaGreater({ alpha: 1, beta: -1 }, { alpha: 1, beta: 1 }), {
    name: "RangeError",
    message: /probabilityBetaGreater: a\.beta must be > 0/,
  });
  assert.throws(() => betaCredibleInterval({ alpha: 1, beta: 1 }, 0), {
    name: "RangeError",
    message: /alpha/,
  });
});
