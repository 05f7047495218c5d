import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { hermeticEnv } from "../test-support/serve-child.ts";

const BIN = new URL("../../bin/modelgov.js", import.meta.url).pathname;

test("a reader that closes the pipe early (modelgov --help | head -1) ends the command quietly, exit 0", async () => {
  const child = spawn(process.execPath, [BIN, "--help"], {
    env: hermeticEnv({}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  // Like `head -1`: read the first chunk, then close the read end before the rest is written.
  await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  assert.equal(stderr, "", "no unhandled EPIPE on stderr");
  assert.equal(code, 0);
});
