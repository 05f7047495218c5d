import { type ChildProcess, spawn } from "node:child_process";
import { type Client, createClient } from "../client/index.ts";
import { SECTION_KEYS } from "../modules/cards/card-sections.ts";

const BIN = new URL("../../bin/modelgov.js", import.meta.url).pathname;

/**
 * The caller's environment without anything that configures modelgov (MODELGOV_*,
 * DATABASE_URL), plus `extra`: a child started with it sees only what the test passes.
 */
export function hermeticEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("MODELGOV_") && k !== "DATABASE_URL" && !k.startsWith("BENCH_")) env[k] = v;
  return { ...env, ...extra };
}

export interface ServeChild {
  url: string;
  pid: number;
  proc: ChildProcess;
  /** Every line the server wrote (stdout and stderr). */
  lines: string[];
  /** Resolves when the process is gone: its exit code or signal, and when (Date.now()). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * `modelgov serve` as a child process on a free 127.0.0.1 port, resolved once it logs that it
 * listens. `env` is the whole environment (see hermeticEnv); MODELGOV_LOG_LEVEL must be info
 * or lower, since readiness is read from the log.
 */
export function spawnServe(opts: {
  args: string[];
  env: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** A command that runs the server, e.g. `ip netns exec <ns>` (it must exec it, keeping the PID). */
  prefix?: string[];
  /** The address to listen on (default 127.0.0.1) and the one `url` names (default the same). */
  host?: { listen: string; reach: string };
  /** The entry with bin/modelgov.js's interface (default: it; bench/dist-entry.mjs runs the build). */
  bin?: string;
  /** Node's own flags before the entry (`--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
}): Promise<ServeChild> {
  const host = opts.host ?? { listen: "127.0.0.1", reach: "127.0.0.1" };
  const argv = [
    process.execPath,
    ...(opts.nodeArgs ?? []),
    opts.bin ?? BIN,
    "serve",
    "--host",
    host.listen,
    "--port",
    "0",
    ...opts.args,
  ];
  const [cmd, ...rest] = [...(opts.prefix ?? []), ...argv];
  const proc = spawn(cmd!, rest, {
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      if (proc.pid) process.kill(proc.pid, "SIGKILL");
      reject(new Error(`server did not start:\n${lines.slice(-20).join("\n")}`));
    }, opts.timeoutMs ?? 60_000);
    for (const stream of [proc.stdout!, proc.stderr!]) {
      let buf = "";
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => {
        buf += d;
        for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          lines.push(line);
          if (ready || !line.includes('"modelgov listening"')) continue;
          try {
            const u = new URL((JSON.parse(line) as { url: string }).url);
            u.hostname = host.reach;
            const url = u.origin;
            ready = true;
            clearTimeout(timer);
            resolve({ url, pid: proc.pid!, proc, lines, exited });
          } catch {}
        }
      });
    }
    void exited.then(({ code, signal }) => {
      if (ready) return;
      clearTimeout(timer);
      reject(
        new Error(`server exited (${code ?? signal}) before listening:\n${lines.slice(-20).join("\n")}`),
      );
    });
  });
}

/** Sends `signal` to the child by PID (if it still runs) and waits for it to exit. */
export async function stopChild(c: ServeChild, signal: NodeJS.Signals = "SIGTERM") {
  if (c.proc.exitCode === null && c.proc.signalCode === null) {
    try {
      process.kill(c.pid, signal);
    } catch {}
  }
  return c.exited;
}

/**
 * On a fresh server: model `model` with one simulator version (about `latencyMs` per answer,
 * no errors), approved, as production; returns an agent token for the gateway.
 */
export async function prepareSimulatorModel(o: {
  url: string;
  adminToken: string;
  model: string;
  latencyMs: { p50: number; p95: number };
}): Promise<{ agent: string; client: Client }> {
  const admin = createClient({ baseUrl: o.url, token: o.adminToken });
  const eng = (await admin.tokens.create({ name: "fault-engineer", roles: ["engineering"] })).token;
  const agent = (await admin.tokens.create({ name: "fault-agent", roles: ["agent"] })).token;
  await admin.models.create({ name: o.model, owner: "faults", riskTier: "low", useCases: ["support"] });
  await admin.versions.register(o.model, {
    version: "1.0.0",
    provider: "simulator",
    providerModelId: "sim-faults",
    parameters: { latencyMs: o.latencyMs, errorRate: 0, tokens: { output: 16 }, quality: { success: 0.9 } },
    card: {
      metadata: {},
      sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: fault fixture.`])),
      extraSections: [],
    },
  });
  const r = await admin.approvals.request(o.model, "1.0.0", "fault runs");
  await createClient({ baseUrl: o.url, token: eng }).approvals.sign(r.id, {
    role: "engineering",
    decision: "approve",
    comment: "fault runs",
  });
  await admin.aliases.set(o.model, "production", "1.0.0", "fault runs");
  return { agent, client: admin };
}
