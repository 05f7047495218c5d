import assert from "node:assert/strict";
import { test } from "node:test";

test("the package's main entry exports the server, the configuration and the client", async () => {
  const entry = await import("./index.ts");
  assert.equal(typeof entry.startServer, "function");
  assert.equal(typeof entry.loadConfig, "function");
  assert.equal(typeof entry.createClient, "function");
  const config = entry.loadConfig({}, {});
  assert.equal(config.port, 7070);
});
