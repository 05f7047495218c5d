/**
 * What an audit checkpoint costs: signing, a tick when the head did not move (one SELECT), and a
 * tick that signs and appends to the file with fdatasync. On PGlite, and on PostgreSQL when
 * MODELGOV_TEST_DATABASE_URL is set. Run: npx tsx bench/audit-checkpoint.bench.ts
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { manualClock } from "../src/lib/clock.ts";
import { createLogger } from "../src/lib/logger.ts";
import { createCheckpointer, generateSigningKey, signCheckpoint } from "../src/modules/audit/index.ts";
import { createServices } from "../src/services.ts";
import { openPglite, openPostgres } from "../src/store/db.ts";
import { migrate } from "../src/store/migrate.ts";
import { createThrowawayDatabase } from "../src/store/throwaway.ts";
import { ctx } from "../src/test-support/stores.ts";

const key = generateSigningKey();
const head = { position: 123456, hash: "a".repeat(64) };
const now = new Date();
for (let i = 0; i < 2000; i++) signCheckpoint(key, head, now);
let t = process.hrtime.bigint();
const N = 20000;
for (let i = 0; i < N; i++) signCheckpoint(key, head, now);
console.log(`sign: ${(Number(process.hrtime.bigint() - t) / N / 1000).toFixed(1)} µs per checkpoint`);

async function store(
  name: string,
  db: Awaited<ReturnType<typeof openPglite>> | ReturnType<typeof openPostgres>,
) {
  await migrate(db);
  const clock = manualClock(new Date());
  const services = createServices({ db, clock });
  const dir = mkdtempSync(path.join(tmpdir(), "cpbench-"));
  const cp = createCheckpointer({
    db,
    clock,
    key,
    file: path.join(dir, "c.jsonl"),
    intervalMs: 1000,
    logger: createLogger("silent"),
  });
  await services.registry.createModel(ctx(), {
    name: "m0",
    owner: "o",
    description: "",
    useCases: [],
    riskTier: "low",
    tags: [],
  });
  await cp.tick();
  const idleN = 500;
  t = process.hrtime.bigint();
  for (let i = 0; i < idleN; i++) await db.query("SELECT 1");
  console.log(
    `${name}: baseline SELECT 1: ${(Number(process.hrtime.bigint() - t) / idleN / 1e6).toFixed(3)} ms`,
  );
  t = process.hrtime.bigint();
  for (let i = 0; i < idleN; i++) await cp.tick();
  console.log(
    `${name}: idle tick (head unchanged, one SELECT): ${(Number(process.hrtime.bigint() - t) / idleN / 1e6).toFixed(3)} ms`,
  );
  let moved = 0n;
  const M = 100;
  for (let i = 0; i < M; i++) {
    await services.registry.createModel(ctx(), {
      name: `m${i + 1}`,
      owner: "o",
      description: "",
      useCases: [],
      riskTier: "low",
      tags: [],
    });
    const s = process.hrtime.bigint();
    const r = await cp.tick();
    moved += process.hrtime.bigint() - s;
    if (r.file !== "written") throw new Error("not written");
  }
  console.log(
    `${name}: tick after the head moved (sign + append + fdatasync to the file): ${(Number(moved) / M / 1e6).toFixed(3)} ms`,
  );
  rmSync(dir, { recursive: true, force: true });
}

const pg = await openPglite();
await store("pglite", pg);
await pg.close();
const url = process.env.MODELGOV_TEST_DATABASE_URL;
if (url) {
  const tmp = await createThrowawayDatabase(url, "modelgov_bench");
  const db = openPostgres(tmp.url, { max: 2 });
  await store("postgres", db);
  await db.close();
  await tmp.drop();
}
