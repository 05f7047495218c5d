import type { Clock } from "../../lib/clock.ts";
import { newId } from "../../lib/ids.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Db } from "../../store/db.ts";
import {
  type BackoffOptions,
  backoffDelay,
  DEFAULT_BACKOFF,
  HONOURS_RETRY_AFTER,
  parseRetryAfter,
} from "./backoff.ts";
import { signatureHeaders } from "./signature.ts";

type Row = Record<string, unknown>;
type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface DispatcherOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  fetch?: Fetch;
  /** Pause between passes while idle. */
  intervalMs?: number;
  /** Attempts before a delivery is marked failed (it can be re-queued through the API). */
  maxAttempts?: number;
  backoff?: BackoffOptions;
  /** Per HTTP attempt; also the unit of a claim's lease. */
  attemptTimeoutMs?: number;
  /** Outbox rows fanned out, and deliveries claimed, per transaction. */
  batchSize?: number;
  /** Deliveries of one subscription claimed at a time (default 10): no subscriber fills a batch. */
  perSubscription?: number;
  random?: () => number;
  /** Called after every pass (metrics, and tests waiting on the background loop). */
  onPass?: (result: PassResult) => void;
}

export interface PassResult {
  /** Outbox events marked dispatched (matching a subscription or not). */
  dispatched: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/** `*`, an exact action, or `prefix.*` (which matches `prefix.anything`, not `prefix` itself). */
export function matchesEventType(patterns: readonly string[], action: string): boolean {
  return patterns.some(
    (p) => p === "*" || p === action || (p.endsWith(".*") && action.startsWith(p.slice(0, -1))),
  );
}

/** The event as receivers see it; key order fixed here because JSONB does not keep it. */
function eventBody(p: Row): string {
  return JSON.stringify({
    id: p.id,
    seq: p.seq,
    type: p.type,
    at: p.at,
    actor: p.actor,
    subject: p.subject,
    reason: p.reason,
    requestId: p.requestId,
    before: p.before,
    after: p.after,
  });
}

/** Reads at most `max` characters of an error answer: enough to say why, never a whole page. */
async function snippet(res: Response, max = 300): Promise<string> {
  try {
    const text = await res.text();
    return text.length > max ? `${text.slice(0, max)}…` : text;
  } catch {
    return "";
  }
}

function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError") return "timed out";
  // The egress guard refused before connecting: nothing about the port's state leaks back.
  if (/^egress refused/.test(e?.cause?.message ?? "")) return e!.cause!.message!;
  if (e?.cause?.code) return `${e.cause.code}${e.cause.message ? `: ${e.cause.message}` : ""}`;
  return e?.message ?? String(err);
}

export function createWebhookDispatcher(opts: DispatcherOptions) {
  const { db, clock, logger } = opts;
  const doFetch: Fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const intervalMs = opts.intervalMs ?? 1000;
  const maxAttempts = opts.maxAttempts ?? 12;
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const attemptTimeoutMs = opts.attemptTimeoutMs ?? 10_000;
  const batchSize = opts.batchSize ?? 100;
  const perSubscription = opts.perSubscription ?? 10;
  const random = opts.random ?? Math.random;
  const stopping = new AbortController();

  /**
   * One transaction: claim undispatched outbox rows, create their deliveries, mark them
   * dispatched. Either all of it commits or none, so no event is lost or fanned out
   * twice; SKIP LOCKED lets replicas share the work. Rows are picked by `dispatched_at`
   * rather than a seq cursor because seq is assigned before commit: a later seq can commit
   * first, and a cursor would step over the earlier one for good.
   */
  async function fanOut(): Promise<number> {
    return db.transaction(async (tx) => {
      const events = await tx.query<Row>(
        `SELECT o.seq, a.id, a.at, a.actor, a.action, a.subject_type, a.subject_id, a.before, a.after,
                a.reason, a.request_id
           FROM event_outbox o JOIN audit_events a ON a.id = o.audit_id
          WHERE o.dispatched_at IS NULL
          ORDER BY o.seq LIMIT $1
          FOR UPDATE OF o SKIP LOCKED`,
        [batchSize],
      );
      if (events.length === 0) return 0;
      const subs = await tx.query<Row>(
        "SELECT id, event_types, created_at FROM webhook_subscriptions WHERE active",
      );
      const now = clock.now().toISOString();
      for (const e of events) {
        const at = e.at as Date;
        // A subscription hears of events recorded from its creation on, not a backlog before it.
        const targets = subs.filter(
          (s) =>
            (s.created_at as Date) <= at && matchesEventType(s.event_types as string[], e.action as string),
        );
        if (targets.length === 0) continue;
        const payload = JSON.stringify({
          id: e.id,
          seq: Number(e.seq),
          type: e.action,
          at: at.toISOString(),
          actor: e.actor,
          subject: { type: e.subject_type, id: e.subject_id },
          reason: e.reason,
          requestId: e.request_id ?? null,
          before: e.before ?? null,
          after: e.after ?? null,
        });
        for (const s of targets)
          await tx.query(
            `INSERT INTO webhook_deliveries
               (id, subscription_id, outbox_seq, audit_id, event_type, payload, status, attempts, next_attempt_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)
             ON CONFLICT (subscription_id, audit_id) DO NOTHING`,
            [newId("whd"), s.id, String(e.seq), e.id, e.action, payload, now],
          );
      }
      await tx.query("UPDATE event_outbox SET dispatched_at = $1 WHERE seq = ANY($2::bigint[])", [
        now,
        events.map((e) => String(e.seq)),
      ]);
      return events.length;
    });
  }

  /**
   * Claims due deliveries and commits before any HTTP call, so no transaction waits on a
   * receiver. At most `perSubscription` per subscription, oldest first, and none of a
   * subscription whose queue is still being sent: a subscriber with a long backlog of
   * failures cannot fill the batch and starve the others. The claim counts the attempt and
   * pushes next_attempt_at past the time the attempt may take (attempts of one subscription
   * are sent one after another, hence the position in its queue): a worker that dies
   * mid-attempt leaves it due again after that.
   */
  async function claim(busy: readonly string[]): Promise<Row[]> {
    const now = clock.now().toISOString();
    const rows = await db.transaction((tx) =>
      tx.query<Row>(
        `WITH due AS (
           SELECT d.id, d.subscription_id, d.outbox_seq,
                  row_number() OVER (PARTITION BY s.id ORDER BY d.outbox_seq, d.id) AS pos
             FROM webhook_subscriptions s
             CROSS JOIN LATERAL (
               SELECT d.id, d.subscription_id, d.outbox_seq
                 FROM webhook_deliveries d
                WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.next_attempt_at <= $1
                ORDER BY d.outbox_seq, d.id
                LIMIT $4
                FOR UPDATE OF d SKIP LOCKED
             ) d
            WHERE s.active AND NOT (s.id = ANY($5::text[]))
            ORDER BY pos, d.outbox_seq
            LIMIT $2
         ), ranked AS (
           -- Round-robin across subscriptions: every subscriber's oldest first, then the next ones.
           SELECT id, row_number() OVER (PARTITION BY subscription_id ORDER BY outbox_seq, id) AS pos FROM due
         )
         UPDATE webhook_deliveries d
            SET attempts = d.attempts + 1, last_attempt_at = $1,
                next_attempt_at = $1::timestamptz + make_interval(secs => (r.pos + 1) * $3::float8 / 1000)
           FROM ranked r, webhook_subscriptions s
          WHERE d.id = r.id AND s.id = d.subscription_id
        RETURNING d.id, d.subscription_id, d.outbox_seq, d.event_type, d.payload, d.attempts, s.url, s.secret,
                  s.legacy_signature`,
        [now, batchSize, attemptTimeoutMs, perSubscription, busy],
      ),
    );
    return rows.sort((a, b) => Number(a.outbox_seq) - Number(b.outbox_seq));
  }

  /** `released`: handed back at shutdown; `stale`: another worker took the delivery over meanwhile. */
  type Outcome = "delivered" | "retrying" | "failed" | "released" | "stale";

  async function attempt(d: Row): Promise<Outcome> {
    const body = eventBody(d.payload as Row);
    const sentAt = clock.now();
    const timestamp = Math.floor(sentAt.getTime() / 1000);
    const attempts = d.attempts as number;
    let status: number | null = null;
    let error: string;
    let retryAfterMs: number | null = null;
    try {
      const res = await doFetch(d.url as string, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "modelgov-webhooks",
          "x-modelgov-event": d.event_type as string,
          "x-modelgov-delivery": d.id as string,
          "x-modelgov-attempt": String(attempts),
          // webhook-id is the delivery's id: the same on every retry of it.
          ...signatureHeaders(
            [d.secret as string],
            d.id as string,
            timestamp,
            body,
            d.legacy_signature === true,
          ),
        },
        body,
        // A redirect is an answer from the receiver, not a place to send signed events.
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(attemptTimeoutMs), stopping.signal]),
      });
      status = res.status;
      if (res.ok) {
        await res.body?.cancel().catch(() => {});
        // Recorded whatever the claim's fate: the receiver has the event.
        await db.query(
          `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $2, last_status_code = $3,
                  last_error = NULL WHERE id = $1 AND status = 'pending'`,
          [d.id, clock.now().toISOString(), status],
        );
        return "delivered";
      }
      const text = await snippet(res);
      error = text ? `HTTP ${status}: ${text}` : `HTTP ${status}`;
      if (HONOURS_RETRY_AFTER.has(status))
        retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), sentAt);
    } catch (err) {
      if (stopping.signal.aborted) {
        // Shutting down: hand the claim back untouched instead of charging the receiver an attempt.
        await db.query(
          `UPDATE webhook_deliveries SET attempts = attempts - 1, next_attempt_at = $3
            WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
          [d.id, attempts, clock.now().toISOString()],
        );
        return "released";
      }
      error = describeError(err);
    }
    const failed = attempts >= maxAttempts;
    const delay =
      retryAfterMs !== null
        ? Math.min(backoff.capMs, Math.max(backoff.baseMs, retryAfterMs))
        : backoffDelay(attempts, backoff, random);
    // Fenced on the claim's attempt count: if the claim expired and another worker took the
    // delivery over, this late failure must not overwrite its newer state.
    const updated = await db.query(
      `UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, last_status_code = $5, last_error = $6
        WHERE id = $1 AND attempts = $2 AND status = 'pending' RETURNING id`,
      [
        d.id,
        attempts,
        failed ? "failed" : "pending",
        new Date(clock.now().getTime() + delay).toISOString(),
        status,
        error.slice(0, 1000),
      ],
    );
    if (updated.length === 0) return "stale";
    logger.warn(
      { delivery: d.id, subscription: d.subscription_id, attempts, status, error, failed },
      failed ? "webhook delivery failed for good" : "webhook delivery failed; will retry",
    );
    return failed ? "failed" : "retrying";
  }

  /** Subscriptions whose queue is being sent: they are not claimed for until it ends. */
  const inFlight = new Map<string, Promise<void>>();

  /** One subscription's claimed deliveries, one at a time in event order. */
  async function sendQueue(queue: Row[], result: PassResult): Promise<void> {
    for (const d of queue) {
      const outcome = await attempt(d);
      if (outcome !== "released" && outcome !== "stale") result[outcome] += 1;
    }
  }

  /**
   * Starts a queue per subscription, each on its own: a slow or dead receiver holds up
   * nobody else's deliveries (its subscription is just left out of claims until its queue ends).
   */
  function deliver(claimed: Row[], result: PassResult): Promise<void>[] {
    const started: Promise<void>[] = [];
    const bySubscription = new Map<string, Row[]>();
    for (const d of claimed) {
      const key = d.subscription_id as string;
      bySubscription.set(key, [...(bySubscription.get(key) ?? []), d]);
    }
    for (const [sub, queue] of bySubscription) {
      const run = sendQueue(queue, result)
        .catch((err) => logger.error({ err, subscription: sub }, "webhook queue failed; retried next pass"))
        .finally(() => inFlight.delete(sub));
      inFlight.set(sub, run);
      started.push(run);
    }
    return started;
  }

  /**
   * One pass: fan out everything pending, then claim and start every due delivery. With
   * `wait` (the default) it returns once every queue it started has ended; the loop does not
   * wait, so the next pass claims for the other subscribers while a slow one is still sending.
   */
  async function runOnce(passOpts: { wait?: boolean } = {}): Promise<PassResult> {
    const result: PassResult = { dispatched: 0, delivered: 0, retrying: 0, failed: 0 };
    // Bounded, so a flood of new events cannot keep deliveries from being attempted.
    for (let round = 0; round < 50; round++) {
      const n = await fanOut();
      result.dispatched += n;
      if (n < batchSize) break;
    }
    // Bounded: a delivery that fails is not due again within a pass unless time runs fast.
    const started: Promise<void>[] = [];
    for (let round = 0; round < 10 && !stopping.signal.aborted; round++) {
      const claimed = await claim([...inFlight.keys()]);
      const queues = deliver(claimed, result);
      started.push(...queues);
      if (passOpts.wait !== false) await Promise.all(queues);
      if (claimed.length < batchSize) break;
    }
    // The pass is over when the queues it started are: report it then, waiting or not.
    const done = Promise.all(started).then(() => opts.onPass?.(result));
    if (passOpts.wait !== false) await done;
    else void done;
    return result;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  const loop = () => {
    running = runOnce({ wait: false })
      .catch((err) => logger.error({ err }, "webhook dispatch pass failed"))
      .finally(() => {
        if (!stopping.signal.aborted) timer = setTimeout(loop, intervalMs);
      });
  };

  /**
   * Tells the operator, once at start, which active subscriptions still get the legacy
   * headers: their receivers should move to the standard ones (docs/webhooks.md, Upgrading).
   */
  async function warnLegacy(): Promise<string[]> {
    const rows = await db.query<Row>(
      "SELECT id FROM webhook_subscriptions WHERE active AND legacy_signature ORDER BY created_at, id",
    );
    const ids = rows.map((r) => r.id as string);
    if (ids.length > 0)
      logger.warn(
        { subscriptions: ids },
        "webhook subscriptions created before Standard Webhooks also get the legacy x-modelgov-signature headers; move their receivers to webhook-signature (docs/webhooks.md, Upgrading)",
      );
    return ids;
  }

  return {
    runOnce,
    warnLegacy,
    start() {
      if (timer || running) return;
      warnLegacy().catch((err) => logger.error({ err }, "webhook legacy check failed"));
      timer = setTimeout(loop, 0);
    },
    /** Stops the loop, aborts attempts in flight (their claims are handed back) and waits for the pass to end. */
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await running;
      await Promise.all(inFlight.values());
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
