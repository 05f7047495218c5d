import path from "node:path";
import { z } from "zod";

/**
 * Environment parsed once, validated, frozen. The only place that reads process.env.
 * CLI flags override the environment by being passed in as `overrides`.
 */
const ConfigSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  dataDir: z.string().min(1),
  databaseUrl: z.string().url().optional(),
  demo: z.boolean(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  serverUrl: z.string().url(),
  /** Development: a fixed admin token (MODELGOV_ADMIN_TOKEN) instead of a generated one. */
  adminToken: z.string().min(16, "MODELGOV_ADMIN_TOKEN must be at least 16 characters").optional(),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export function loadConfig(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = {
    host: env.MODELGOV_HOST ?? "127.0.0.1",
    port: env.MODELGOV_PORT ?? 7070,
    dataDir: path.resolve(env.MODELGOV_DATA_DIR ?? ".modelgov"),
    databaseUrl: env.DATABASE_URL || undefined,
    demo: !env.MODELGOV_NO_DEMO,
    logLevel: env.MODELGOV_LOG_LEVEL ?? "info",
    serverUrl: env.MODELGOV_URL ?? "http://127.0.0.1:7070",
    adminToken: env.MODELGOV_ADMIN_TOKEN || undefined,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  return Object.freeze({ ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) });
}
