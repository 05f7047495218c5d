// A modelgov webhook receiver in Node, verifying deliveries with the official Standard
// Webhooks library (docs/webhooks.md):
//
//   npm install standardwebhooks
//   WEBHOOK_SECRET=whsec_… node receiver.mjs 8080
//   modelgov webhooks create http://<this host>:8080/ --event 'approval.*' --event 'retraining.*'
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

/**
 * A request handler: 204 for a verified delivery, 400 for one that does not verify, 500 when
 * `onEvent` throws (modelgov then retries). Deliveries are at least once: a retry carries the
 * same webhook-id, so each id is handed to `onEvent` once (keep `seen` in your database).
 */
export function webhookHandler(secret, onEvent, seen = new Set()) {
  const wh = new Webhook(secret);
  return (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      // Verify the raw body as received, before any JSON parsing.
      const body = Buffer.concat(chunks).toString("utf8");
      let event;
      try {
        // Checks webhook-signature against "<webhook-id>.<webhook-timestamp>.<body>" and
        // refuses a timestamp more than 5 minutes from this machine's clock (a replay).
        event = wh.verify(body, req.headers);
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        res.writeHead(400, { "content-type": "text/plain" }).end(err.message);
        return;
      }
      const id = req.headers["webhook-id"];
      try {
        if (!seen.has(id)) {
          await onEvent(event, id);
          seen.add(id);
        }
        res.writeHead(204).end();
      } catch (err) {
        console.error(err);
        res.writeHead(500).end();
      }
    });
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const secret = process.env.WEBHOOK_SECRET;
  if (!secret) throw new Error("set WEBHOOK_SECRET to the secret `modelgov webhooks create` printed");
  const port = Number(process.argv[2] ?? 8080);
  const handler = webhookHandler(secret, (event, id) => {
    console.log(`${id} ${event.type} ${event.subject.type}/${event.subject.id} by ${event.actor}`);
  });
  createServer(handler).listen(port, () => console.log(`listening on :${port}`));
}
