import assert from "node:assert/strict";
import { test } from "node:test";
import { walkCommands } from "./completion.ts";
import { buildProgram } from "./main.ts";

test("every command and every option of the CLI has help text", () => {
  const program = buildProgram({ io: { out() {}, err() {} }, env: {} }, () => {});
  const nodes = walkCommands(program);
  // The walk reaches the whole tree (a walk that stopped at the top would pass vacuously).
  assert.ok(nodes.length > 140, `${nodes.length} commands`);
  assert.ok(nodes.some((n) => n.path.join(" ") === "approvals policy get"));
  const missing: string[] = [];
  for (const { path, command } of nodes) {
    const name = ["modelgov", ...path].join(" ");
    if (!command.description().trim()) missing.push(name);
    for (const o of command.options) if (!o.description.trim()) missing.push(`${name} ${o.flags}`);
  }
  assert.deepEqual(missing, [], `without help text:\n  ${missing.join("\n  ")}`);
});
