import assert from "node:assert/strict";
import { test } from "node:test";
import { Hono } from "hono";
import { createLogger } from "../lib/logger.ts";
import { isStoreUnavailable, problemResponse, RETRY_AFTER_SECONDS } from "./problem.ts";

const logger = createLogger("silent");

/** An app whose one route throws `err`, rendered by the one error handler. */
function throwing(err: unknown) {
  const app = new Hono();
  app.get("/x", () => {
    throw err;
  });
  app.onError((e, c) => problemResponse(e, c, logger));
  return app;
}

test("a store that cannot be reached is a 503 with Retry-After, not a 500", async () => {
  const errors = [
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
    Object.assign(new Error("the database system is starting up"), { code: "57P03" }),
    Object.assign(new Error("connection failure"), { code: "08006" }),
    new Error("Connection terminated unexpectedly"),
    new Error("timeout exceeded when trying to connect"),
  ];
  for (const err of errors) {
    assert.equal(isStoreUnavailable(err), true, err.message);
    const res = await throwing(err).request("/x");
    assert.equal(res.status, 503, err.message);
    assert.equal(res.headers.get("retry-after"), String(RETRY_AFTER_SECONDS));
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const p = (await res.json()) as { code: string; errors: { field: string }[]; detail: string };
    assert.equal(p.code, "unavailable");
    assert.equal(p.errors[0]!.field, "store");
    assert.match(p.detail, /nothing was changed/);
  }
  // Other failures stay internal errors.
  assert.equal(isStoreUnavailable(Object.assign(new Error("duplicate key"), { code: "23505" })), false);
  assert.equal((await throwing(new Error("boom")).request("/x")).status, 500);
});

test("a character PostgreSQL refuses (22P05, 22021) is the caller's input: 400", async () => {
  for (const code of ["22P05", "22021"]) {
    const res = await throwing(
      Object.assign(new Error("unsupported Unicode escape sequence"), { code }),
    ).request("/x");
    assert.equal(res.status, 400, code);
    assert.equal(((await res.json()) as { code: string }).code, "invalid_input");
  }
});
