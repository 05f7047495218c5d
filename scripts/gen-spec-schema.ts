// Regenerates schema/modelgov.schema.json from the spec's zod schema (a test fails when it is stale).
import { mkdirSync, writeFileSync } from "node:fs";
import { specJsonSchema } from "../src/modules/spec/index.ts";

mkdirSync("schema", { recursive: true });
writeFileSync("schema/modelgov.schema.json", `${JSON.stringify(specJsonSchema(), null, 2)}\n`);
console.log("wrote schema/modelgov.schema.json");
