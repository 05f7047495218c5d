// Writes examples/suites/triage-cases.jsonl from the demo suite in src/demo/suite.ts.
import { writeFileSync } from "node:fs";
import { demoCases } from "../src/demo/suite.ts";

const cases = demoCases();
writeFileSync(
  new URL("../examples/suites/triage-cases.jsonl", import.meta.url),
  `${cases.map((c) => JSON.stringify(c)).join("\n")}\n`,
);
console.log(`wrote ${cases.length} cases to examples/suites/triage-cases.jsonl`);
