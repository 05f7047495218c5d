#!/usr/bin/env node
// In a checkout, run the TypeScript sources through tsx (never a stale build);
// in the published package, which ships dist/ and not the sources, run the build.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
if (existsSync(source)) {
  const { register } = await import("tsx/esm/api");
  register();
  await (await import(source.href)).main();
} else {
  await (await import(new URL("../dist/cli/main.js", import.meta.url).href)).main();
}
