/**
 * The router tests' fixtures: a support-ticket suite (easy and hard tickets), a simulated
 * version's parameters, the two tiers of model desk and a complete card.
 */
import { SECTION_KEYS } from "../modules/cards/card-sections.ts";

export const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: test fixture.`])),
  extraSections: [],
};
export const EASY = ["Where is my order {n}?", "How do I reset my password?", "Do you ship to Norway?"];
export const HARD = [
  "Compare the annual and the monthly plan for a team of {n} and explain why one costs less over three years; show the calculation step by step.",
  "Prove that the discount rules cannot stack above 40% for order {n}, and derive the worst case. Why?",
];
const LABELS = ["billing", "technical"];

/** 40 tickets, every fourth hard: the cheap tier fails most hard ones, the strong one few. */
export function ticketSuite(name: string, n = 40) {
  return {
    name,
    scorers: [{ kind: "label", labels: LABELS }],
    cases: Array.from({ length: n }, (_, i) => {
      const hard = i % 4 === 0;
      const pool = hard ? HARD : EASY;
      return {
        id: `t${String(i).padStart(3, "0")}`,
        input: {
          messages: [
            {
              role: "user",
              content: pool[(hard ? i / 4 : i) % pool.length]!.replace("{n}", String(100 + i)),
            },
          ],
        },
        expect: { label: LABELS[i % 2] },
        attributes: { difficulty: hard ? "hard" : "easy" },
      };
    }),
  };
}

export const sim = (quality: Record<string, unknown>, seed: number) => ({
  latencyMs: { p50: 0, p95: 0 },
  tokens: { output: 100 },
  quality,
  seed,
});
export const TIERS = [
  { name: "cheap", target: "desk@1.0.0" },
  { name: "strong", target: "desk@2.0.0" },
];
