import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../config.ts";
import { manualClock } from "../lib/clock.ts";
import { createLogger } from "../lib/logger.ts";
import { createEvalInvoker, createEvalWorker } from "../modules/evals/index.ts";
import { createGatewayRuntime } from "../modules/gateway/runtime.ts";
import { createMonitoringJob } from "../modules/monitoring/index.ts";
import { createRolloutController } from "../modules/rollouts/index.ts";
import { createWebhookDispatcher, verifyWebhook } from "../modules/webhooks/index.ts";
import { createServices } from "../services.ts";
import { openPglite } from "../store/db.ts";
import { migrate } from "../store/migrate.ts";

/** One webhook delivery the demo's receiver took, and whether its signature held. */
export interface Delivery {
  event: string;
  delivery: string;
  signatureValid: boolean;
  body: string;
}

/**
 * The real services on a throwaway embedded store (a temp dir, removed by `close`) and a manual
 * clock: what main.ts composes, minus the timers. The demo drives each worker by hand (the
 * monitoring job's `tick`, the rollout controller's `kick`, the webhook dispatcher's `runOnce`)
 * after moving the clock, so weeks pass in seconds. The gateway answers on a loopback port of
 * this process, stamping its request-log rows with the manual clock; a loopback receiver takes
 * the webhooks.
 */
export async function openMonitorStack(
  start: Date,
  /** `name`: the temp dir's (`modelgov-demo-<name>-…`), so demos running side by side tell theirs apart. */
  opts: { keepBodies?: boolean; name?: string } = {},
) {
  const dir = await mkdtemp(path.join(os.tmpdir(), `modelgov-demo-${opts.name ?? "monitor"}-`));
  const closers: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const close = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  };
  try {
    const db = await openPglite(path.join(dir, "pgdata"));
    closers.push(() => db.close());
    await migrate(db);
    const clock = manualClock(start);
    const logger = createLogger("silent");
    const services = createServices({ db, clock, logger, spoolDir: path.join(dir, "spool") });
    await services.feedbackLog.start();
    await services.requestLog.start();
    closers.push(
      () => services.requestLog.stop(),
      () => services.feedbackLog.stop(),
    );

    // Whole bodies kept (the retraining export needs them; `keepBodies: false` when nothing
    // does); no rate limit: the clock stands still within a slot.
    const config = loadConfig(
      {
        gatewayBodies: opts.keepBodies === false ? { mode: "off" } : { mode: "sample", rate: 1 },
        gatewayRateLimitPerSec: 1_000_000,
        gatewayRateLimitBurst: 1_000_000,
      },
      {},
    );
    const gateway = createGatewayRuntime({ services, config, logger, clock });
    await gateway.start();
    closers.push(() => gateway.stop());
    const server: Server = createServer((req, res) => {
      if (gateway.handler.handles(req.url)) void gateway.handler.handle(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
    const gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const evalWorker = createEvalWorker({
      db,
      clock,
      evals: services.evals,
      invoker: createEvalInvoker({ db, adapters: gateway.adapters, apiKeyFor: gateway.apiKeyFor }),
      logger,
      // A run started here wakes the worker at once (evals.onStart); the look is only a backstop.
      intervalMs: 1000,
      leaseTtlMs: 60_000,
    });
    await evalWorker.start();
    closers.push(() => evalWorker.stop());
    const monitoringJob = createMonitoringJob({
      db,
      monitoring: services.monitoring,
      logger,
      holder: "demo",
    });
    closers.push(() => monitoringJob.stop());
    const controller = createRolloutController({ db, rollouts: services.rollouts, logger, holder: "demo" });
    closers.push(async () => controller.stop());
    const dispatcher = createWebhookDispatcher({ db, clock, logger });
    closers.push(async () => dispatcher.stop());
    const receiver = await startReceiver();
    closers.push(() => receiver.close());

    return {
      dir,
      db,
      clock,
      services,
      gateway,
      gatewayUrl,
      monitoringJob,
      controller,
      dispatcher,
      receiver,
      /** Moves the manual clock forward to `at` (never back). */
      advanceTo(at: Date) {
        const ms = at.getTime() - clock.now().getTime();
        if (ms > 0) clock.advance(ms);
      },
      /** Signature checks use the demo's clock: the dispatcher stamped the deliveries with it. */
      verify: (secret: string, d: { headers: IncomingHttpHeaders; body: string }) =>
        verifyWebhook(secret, d.headers, d.body, 300, clock.now()),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export type MonitorStack = Awaited<ReturnType<typeof openMonitorStack>>;

/** A loopback webhook receiver (127.0.0.1, a free port) that answers 204 and keeps what it got. */
async function startReceiver() {
  const received: { event: string; delivery: string; headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const h = req.headers;
      received.push({
        event: String(h["x-modelgov-event"] ?? ""),
        delivery: String(h["webhook-id"] ?? ""),
        headers: h,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/modelgov`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
