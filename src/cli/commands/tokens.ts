import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import { type Io, printRecord, printRows } from "../output.ts";
import { collect } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

const TOKEN_COLS = ["id", "name", "roles", "prefix", "createdAt", "expiresAt", "revokedAt"];

/** `tokens create|list|revoke` (the server allows them to tokens:admin only) and `whoami`. */
export function registerTokenCommands(program: Command, ctx: Ctx) {
  const tokens = program
    .command("tokens")
    .description("API tokens: create (the secret is shown once), list, revoke; needs tokens:admin");
  tokens
    .command("create <name>")
    .description("create a token for a person or service; prints its secret once")
    .requiredOption(
      "--role <role>",
      "repeatable: admin, engineering, viewer, agent, or a stakeholder role (compliance, ...)",
      collect,
    )
    .option("--expires-at <time>", "ISO 8601 time with offset, e.g. 2027-01-01T00:00:00Z (default: never)")
    .option(
      "-q, --quiet",
      "print only the secret, for scripts: TOKEN=$(modelgov tokens create ci --role agent -q)",
    )
    .action(async (name, o) => {
      const t = await ctx.client().tokens.create({ name, roles: o.role, expiresAt: o.expiresAt });
      if (o.quiet) return ctx.io.out(t.token);
      if (ctx.json()) return ctx.io.out(JSON.stringify(t, null, 2));
      printRecord(ctx.io, false, t, ["id", "name", "roles", "prefix", "createdAt", "expiresAt"]);
      ctx.io.out("");
      ctx.io.out(`token: ${t.token}`);
      ctx.io.out("store it now; it is not shown again (use it as MODELGOV_TOKEN or Authorization: Bearer)");
    });
  tokens
    .command("list")
    .description("every token, revoked and expired ones included (never a secret)")
    .action(async () => {
      const list = await ctx.client().tokens.list();
      printRows(ctx.io, ctx.json(), list, list, TOKEN_COLS);
    });
  tokens
    .command("revoke <id>")
    .description("revoke a token: it is refused (401) from now on")
    .action(async (id) => {
      const t = await ctx.client().tokens.revoke(id);
      if (ctx.json()) return printRecord(ctx.io, true, t);
      ctx.io.out(`revoked token ${t.id} (${t.name}); it no longer authenticates`);
      printRecord(ctx.io, false, t, ["id", "name", "roles", "revokedAt", "revokedBy"]);
    });

  program
    .command("whoami")
    .description("the name, roles and permissions of the token in use")
    .action(async () => {
      const me = await ctx.client().whoami();
      if (ctx.json()) return printRecord(ctx.io, true, me);
      printRecord(ctx.io, false, me, ["name", "roles", "permissions"]);
    });
}
