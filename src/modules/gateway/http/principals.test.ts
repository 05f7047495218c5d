import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { test } from "node:test";
import type { RoutingSnapshot } from "../routing/snapshot.ts";
import type { Principal } from "./deps.ts";
import { createPrincipals } from "./principals.ts";

const agent: Principal = { tokenId: "tok_1", name: "agent", roles: ["agent"] };
const req = (token: string) =>
  ({ headers: { authorization: `Bearer ${token}` } }) as unknown as IncomingMessage;

test("a partitioned store (checks that never answer): a known token's last answer stands after a second; an unknown one waits", async () => {
  let answer: "ok" | "hang" = "ok";
  let checks = 0;
  let changed: (s: RoutingSnapshot) => void = () => {};
  const principals = createPrincipals({
    authenticate: (token) => {
      checks++;
      if (answer === "hang") return new Promise<never>(() => {});
      return Promise.resolve(token === "known" ? agent : null);
    },
    routing: {
      current: () => ({}) as RoutingSnapshot,
      onChange: (l) => {
        changed = l;
      },
    },
  });
  assert.deepEqual(await principals.principalOf(req("known")), agent);
  answer = "hang";
  changed({} as RoutingSnapshot); // every entry is due for a re-check
  const started = Date.now();
  const before = checks;
  const answers = await Promise.all([1, 2, 3].map(() => principals.principalOf(req("known"))));
  assert.deepEqual(answers, [agent, agent, agent]);
  assert.equal(checks - before, 1, "requests arriving meanwhile share one check");
  const waited = Date.now() - started;
  assert.ok(waited >= 900 && waited < 3000, `answered after ${waited} ms`);
  const unknown = Promise.race([
    Promise.resolve(principals.principalOf(req("stranger"))).then(() => "answered"),
    new Promise((r) => setTimeout(() => r("still waiting"), 1500)),
  ]);
  assert.equal(await unknown, "still waiting", "a token never seen is not let in on a guess");
});
