// Regenerates docs/roles.md from the role table and the API's routes (a test fails when it is stale).
import { mkdirSync, writeFileSync } from "node:fs";
import { loadOpenApiDocument, renderRolesDoc } from "./roles-doc.ts";

mkdirSync("docs", { recursive: true });
writeFileSync("docs/roles.md", renderRolesDoc(await loadOpenApiDocument()));
console.log("wrote docs/roles.md");
