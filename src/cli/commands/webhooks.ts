import { type Command, InvalidArgumentError } from "commander";
import type { Client } from "../../client/index.ts";
import { type Io, printRecord, printRows } from "../output.ts";
import { collect, intArg } from "../util.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean };

const WEBHOOK_COLS = [
  "id",
  "name",
  "url",
  "eventTypes",
  "active",
  "secretPrefix",
  "legacySignature",
  "createdAt",
  "disabledAt",
];
const DELIVERY_COLS = [
  "id",
  "seq",
  "eventType",
  "status",
  "attempts",
  "lastStatusCode",
  "lastError",
  "nextAttemptAt",
];

function deliveryStatus(value: string) {
  if (!["pending", "delivered", "failed"].includes(value))
    throw new InvalidArgumentError("expected pending, delivered or failed");
  return value as "pending" | "delivered" | "failed";
}

/** `webhooks create|list|disable|deliveries|retry` (the server allows them to webhooks:admin only). */
export function registerWebhookCommands(program: Command, ctx: Ctx) {
  const webhooks = program
    .command("webhooks")
    .description("signed event deliveries to your URLs: subscribe, list, disable, inspect, retry");
  webhooks
    // The URL is an argument, not --url: the program's own --url (the server) would take it.
    .command("create <url>")
    .description("subscribe an http(s) URL to event types; prints the signing secret once")
    .requiredOption(
      "--event <type>",
      "repeatable: an action (version.status_changed), a prefix (approval.*) or *",
      collect,
    )
    .option("--name <name>", "a label (default: the URL's host)")
    .action(async (url, o) => {
      const w = await ctx.client().webhooks.create({ url, eventTypes: o.event, name: o.name });
      if (ctx.json()) return ctx.io.out(JSON.stringify(w, null, 2));
      printRecord(ctx.io, false, w, ["id", "name", "url", "eventTypes", "createdAt"]);
      ctx.io.out("");
      ctx.io.out(`secret: ${w.secret}`);
      ctx.io.out(
        "store it now; it is not shown again. Deliveries are Standard Webhooks: verify them with the standardwebhooks library and this secret (docs/webhooks.md)",
      );
    });
  webhooks
    .command("list")
    .description("every subscription, disabled ones included (never a secret)")
    .action(async () => {
      const list = await ctx.client().webhooks.list();
      printRows(ctx.io, ctx.json(), list, list, WEBHOOK_COLS);
      const legacy = list.filter((w) => w.active && w.legacySignature);
      if (legacy.length > 0 && !ctx.json())
        ctx.io.err(
          `${legacy.length} subscription(s) created before Standard Webhooks also get the legacy x-modelgov-signature headers: move their receivers to webhook-signature (docs/webhooks.md, Upgrading)`,
        );
    });
  webhooks
    .command("disable <id>")
    .description("stop deliveries for good; pending ones become failed")
    .action(async (id) => {
      const w = await ctx.client().webhooks.disable(id);
      if (ctx.json()) return printRecord(ctx.io, true, w);
      ctx.io.out(`disabled webhook ${w.id} (${w.name})`);
    });
  webhooks
    .command("deliveries <id>")
    .description("recent deliveries, newest event first, with attempts and the last error")
    .option("--status <status>", "pending | delivered | failed", deliveryStatus)
    .option("--limit <n>", "how many (default 50)", intArg)
    .action(async (id, o) => {
      const list = await ctx.client().webhooks.deliveries(id, { status: o.status, limit: o.limit });
      printRows(ctx.io, ctx.json(), list, list, DELIVERY_COLS);
    });
  webhooks
    .command("retry <id> <deliveryId>")
    .description("re-queue a failed delivery with a fresh attempt budget")
    .action(async (id, deliveryId) => {
      const d = await ctx.client().webhooks.retry(id, deliveryId);
      if (ctx.json()) return printRecord(ctx.io, true, d);
      ctx.io.out(`re-queued delivery ${d.id} (${d.eventType}); it is due now`);
    });
}
