// Regenerates docs/reference/ from the schemas and the environment registry (a test fails when it is stale).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REFERENCE_DIR, referencePages } from "./reference-doc.ts";

mkdirSync(REFERENCE_DIR, { recursive: true });
const pages = referencePages();
// A page no longer generated goes too.
for (const name of readdirSync(REFERENCE_DIR))
  if (name.endsWith(".md") && !pages.has(name)) rmSync(path.join(REFERENCE_DIR, name));
for (const [name, text] of pages) writeFileSync(path.join(REFERENCE_DIR, name), text);
console.log(`wrote ${pages.size} pages to ${REFERENCE_DIR}/`);
