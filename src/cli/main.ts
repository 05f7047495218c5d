import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { createClient } from "../client/index.ts";
import { envDefault, environmentHelp, readEnv } from "../lib/environment.ts";
import { registerApplyCommand } from "./commands/apply.ts";
import { registerApprovalCommands } from "./commands/approvals.ts";
import { registerAuditCommands } from "./commands/audit.ts";
import { registerCardCommands } from "./commands/cards.ts";
import { registerDbCommands } from "./commands/db.ts";
import { registerDemoCommands } from "./commands/demo.ts";
import { registerDepsCommand } from "./commands/deps.ts";
import { registerEvalCommands } from "./commands/evals.ts";
import { registerExperimentCommands } from "./commands/experiments.ts";
import { registerFairnessCommands } from "./commands/fairness.ts";
import { registerFlagCommands } from "./commands/flags.ts";
import { registerKillCommands } from "./commands/kill.ts";
import { registerMonitorCommands } from "./commands/monitor.ts";
import { registerRegistryCommands } from "./commands/registry.ts";
import { registerRetrainingCommands } from "./commands/retraining.ts";
import { registerRolloutCommands, registerShadowCommands } from "./commands/rollouts.ts";
import { registerRouteCommands } from "./commands/route.ts";
import { registerRouterCommands } from "./commands/router.ts";
import { registerTokenCommands } from "./commands/tokens.ts";
import { registerTrafficCommands } from "./commands/traffic.ts";
import { registerWebhookCommands } from "./commands/webhooks.ts";
import { registerCompletionCommand } from "./completion.ts";
import { jsonRequested, reportError } from "./errors.ts";
import type { Io } from "./output.ts";

export interface CliEnv {
  io: Io;
  env: NodeJS.ProcessEnv;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Commander's own parse errors are left to runCli to print as JSON (`--json`). */
  jsonErrors?: boolean;
}

/**
 * The API token: MODELGOV_TOKEN, else the admin token a local server wrote into its data
 * folder on first start (so `npm start` then `modelgov models list` just works on a laptop).
 */
function resolveToken(env: NodeJS.ProcessEnv): string | undefined {
  const token = readEnv(env, "MODELGOV_TOKEN");
  if (token) return token.trim();
  const file = path.resolve(
    readEnv(env, "MODELGOV_DATA_DIR") ?? envDefault("MODELGOV_DATA_DIR"),
    "admin-token",
  );
  return existsSync(file) ? readFileSync(file, "utf8").trim() : undefined;
}

/**
 * The whole command tree, ready to parse; `fail(code)` records the exit code an action sets.
 * Separate from runCli so a test can parse a documented command line without running it.
 */
export function buildProgram(cli: CliEnv, fail: (code: number) => void): Command {
  const program = new Command("modelgov")
    .description("modelgov: model governance — registry, cards, approvals, rollouts, audit")
    .version("0.1.0")
    .option("--json", "machine-readable output")
    .option("--url <url>", "server URL (default: $MODELGOV_URL or http://127.0.0.1:7070)")
    .addHelpText("after", environmentHelp("cli", "Environment of the CLI"))
    .exitOverride()
    .configureOutput({
      writeOut: (s) => cli.io.out(s.trimEnd()),
      writeErr: (s) => cli.io.err(s.trimEnd()),
      // Under --json, runCli prints commander's parse errors as JSON instead.
      outputError: (s, write) => (cli.jsonErrors ? undefined : write(s)),
    });
  const baseUrl = (): string =>
    program.opts().url ?? readEnv(cli.env, "MODELGOV_URL") ?? envDefault("MODELGOV_URL");
  const client = () => {
    return createClient({
      baseUrl: baseUrl(),
      token: resolveToken(cli.env),
      fetch: cli.fetch,
    });
  };
  const ctx = {
    client,
    io: cli.io,
    json: () => !!program.opts().json,
    fail,
    baseUrl,
    ...(cli.fetch ? { fetch: cli.fetch } : {}),
  };

  program
    .command("serve")
    .description("run the server (embedded PGlite in --data-dir, or PostgreSQL from DATABASE_URL)")
    .option("--host <host>", "listen address (default: MODELGOV_HOST, else 127.0.0.1)")
    .option("--port <port>", "listen port (default: MODELGOV_PORT, else 7070)")
    .option("--data-dir <dir>", "embedded store folder (default ./.modelgov)")
    .addOption(new Option("--no-demo", "do not seed the demo workspace"))
    .addHelpText("after", environmentHelp("server"))
    .action(async (o) => {
      const { startServer } = await import("../main.ts");
      const { loadConfig } = await import("../config.ts");
      const config = loadConfig(
        {
          host: o.host,
          port: o.port === undefined ? undefined : Number(o.port),
          dataDir: o.dataDir,
          demo: o.demo,
        },
        cli.env,
      );
      const server = await startServer(config);
      const stop = async () => {
        // A stop that hangs (a store that never answers) still ends before the orchestrator's
        // SIGKILL (Kubernetes: 30 s): connections are cut at the drain deadline, the rest gets 5 s.
        setTimeout(() => {
          server.logger.error({ afterMs: config.drainTimeoutMs + 5_000 }, "shutdown did not finish; exiting");
          process.exit(1);
        }, config.drainTimeoutMs + 5_000).unref();
        await server.close();
        server.logger.info("stopped");
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      await new Promise(() => {});
    });
  program
    .command("migrate")
    .description(
      "apply pending database migrations and exit (PostgreSQL: as the owner in MODELGOV_MIGRATE_DATABASE_URL, else DATABASE_URL)",
    )
    .option("--data-dir <dir>", "embedded store folder (default ./.modelgov)")
    .addHelpText("after", environmentHelp("migrate"))
    .action(async (o) => {
      const { openDb } = await import("../store/db.ts");
      const { migrate } = await import("../store/migrate.ts");
      const { loadConfig } = await import("../config.ts");
      const config = loadConfig({ dataDir: o.dataDir }, cli.env);
      const databaseUrl = config.migrateDatabaseUrl ?? config.databaseUrl;
      const db = await openDb({
        databaseUrl,
        dataDir: databaseUrl ? undefined : `${config.dataDir}/pgdata`,
      });
      try {
        const applied = await migrate(db);
        cli.io.out(
          applied.length
            ? `applied ${applied.length} migration(s): ${applied.join(", ")}`
            : "up to date: no pending migrations",
        );
      } finally {
        await db.close();
      }
    });
  registerRegistryCommands(program, ctx);
  registerCardCommands(program, ctx);
  registerApplyCommand(program, ctx);
  registerAuditCommands(program, ctx);
  registerApprovalCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerWebhookCommands(program, ctx);
  registerFlagCommands(program, ctx);
  registerDepsCommand(program, ctx);
  registerRolloutCommands(program, ctx);
  registerShadowCommands(program, ctx);
  registerRouteCommands(program, ctx);
  registerTrafficCommands(program, ctx);
  registerKillCommands(program, ctx);
  registerMonitorCommands(program, ctx);
  registerExperimentCommands(program, ctx);
  registerEvalCommands(program, ctx);
  registerRouterCommands(program, ctx);
  registerFairnessCommands(program, ctx);
  registerRetrainingCommands(program, ctx);
  registerDemoCommands(program, ctx);
  registerDbCommands(program, { ...ctx, env: cli.env });
  registerCompletionCommand(program, cli.io);
  return program;
}

/** Runs one CLI invocation; returns the exit code (0 success, 1 failure, 2 usage error). */
export async function runCli(argv: string[], cli: CliEnv): Promise<number> {
  let exitCode = 0;
  const json = jsonRequested(argv);
  const program = buildProgram({ ...cli, jsonErrors: json }, (code) => {
    exitCode = code;
  });
  const baseUrl = () => program.opts().url ?? readEnv(cli.env, "MODELGOV_URL") ?? envDefault("MODELGOV_URL");
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    return reportError(err, cli.io, json, baseUrl);
  }
}

/** The program's entry point (bin/modelgov.js calls it); importing this module runs nothing. */
export async function main(): Promise<void> {
  // A reader that stops early (`modelgov --help | head`) closes the pipe: that ends the
  // command quietly, as it does for any Unix tool, not with an unhandled EPIPE.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  const io: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };
  // On a terminal, a progress line is redrawn in place; null ends it.
  if (process.stderr.isTTY)
    io.progress = (s) =>
      process.stderr.write(s === null ? "\n" : `\r\x1b[K${s.slice(0, process.stderr.columns - 1)}`);
  process.exitCode = await runCli(process.argv.slice(2), { io, env: process.env });
}
