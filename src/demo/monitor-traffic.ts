/**
 * The demo monitor's traffic: support tickets through the gateway as a client application
 * sends them, one agent token per caller, each answer's simulated outcome reported back as
 * feedback, with a reviewer's correction on a failed answer (so the retraining export has the
 * answer that should have been given). Two segments: consumers (short tickets) and, from the
 * decay day on, a wave of enterprise customers (long tickets) the production version serves
 * badly.
 */

export type Segment = "consumer" | "enterprise";

const CONSUMER = [
  "I was charged twice this month for order {n}.",
  "The app crashes when I open settings on my phone.",
  "How do I change the email address on my account?",
  "My parcel {n} has not arrived yet.",
  "Please cancel my subscription before the next renewal.",
  "The export button does nothing when I click it.",
];
const ENTERPRISE_PARTS = [
  "We run {n} seats across three regions under a master services agreement.",
  "Since the last release our single sign-on integration rejects users provisioned through SCIM,",
  "and the audit export our compliance team files every quarter is missing the admin actions.",
  "Our procurement contact needs the invoice split by cost centre, with the purchase order number on each line,",
  "and the data processing addendum we signed requires that support access be logged and approved.",
  "Please confirm the escalation path, the service credits that apply under the agreement,",
  "and when the fix will be deployed to our dedicated tenant, because the renewal review is next week.",
];
const SYSTEM = "You draft first answers to customer-support tickets. Be brief, accurate and polite.";

/** The segment of the i-th request of a day with this share of enterprise traffic (spread evenly). */
export const segmentOf = (i: number, share: number): Segment =>
  (i * 0.6180339887) % 1 < share ? "enterprise" : "consumer";

/** A ticket: consumers write a sentence, enterprise customers a long paragraph. */
export function ticket(segment: Segment, n: number): string {
  if (segment === "consumer") return CONSUMER[n % CONSUMER.length]!.replace("{n}", String(10_000 + n));
  const start = n % 3;
  return ENTERPRISE_PARTS.slice(start)
    .concat(ENTERPRISE_PARTS.slice(0, start))
    .join(" ")
    .replace("{n}", String(100 + (n % 900)));
}

/** What a reviewer writes as the answer a failed request should have had. */
export const correctionOf = (segment: Segment, n: number) =>
  segment === "enterprise"
    ? `Escalated to the enterprise desk as case ${n}; an account engineer replies within four hours.`
    : `Sorry for the trouble: case ${n} is open and the fix is described in your account messages.`;

export interface SlotResult {
  sent: number;
  succeeded: number;
  failed: number;
  /** Answers the gateway did not serve (non-200). */
  errors: number;
  tokensIn: number;
}

/**
 * Sends `count` tickets through the gateway, `tokens.length` callers at once, and reports each
 * answer's outcome as feedback. `settle` is called while the feedback is in flight: the
 * feedback endpoint answers once its row is durable, and the demo flushes the writer instead
 * of waiting for its timer.
 */
export async function sendSlot(opts: {
  gatewayUrl: string;
  model: string;
  tokens: readonly string[];
  count: number;
  /** The first request's number: tickets and subjects differ across slots. */
  first: number;
  share: number;
  flushRequests: () => Promise<void>;
  flushFeedback: () => Promise<void>;
}): Promise<SlotResult> {
  const result: SlotResult = { sent: 0, succeeded: 0, failed: 0, errors: 0, tokensIn: 0 };
  const answered: { token: string; requestId: string; segment: Segment; n: number; success: boolean }[] = [];
  let next = 0;
  const caller = async (token: string) => {
    for (let k = next++; k < opts.count; k = next++) {
      const n = opts.first + k;
      const segment = segmentOf(n, opts.share);
      const res = await fetch(`${opts.gatewayUrl}/v1/chat/completions`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "x-modelgov-subject": `customer-${n}`,
          "x-modelgov-groups": `segment=${segment}`,
        },
        body: JSON.stringify({
          model: opts.model,
          messages: [
            { role: "system", content: SYSTEM },
            { role: "user", content: ticket(segment, n) },
          ],
        }),
      });
      result.sent++;
      const body = (await res.json().catch(() => null)) as {
        usage?: { prompt_tokens?: number };
        modelgov?: { simulated?: { success?: boolean } };
      } | null;
      const requestId = res.headers.get("x-modelgov-request-id");
      if (res.status !== 200 || !requestId) {
        result.errors++;
        continue;
      }
      const success = body?.modelgov?.simulated?.success === true;
      result.tokensIn += body?.usage?.prompt_tokens ?? 0;
      if (success) result.succeeded++;
      else result.failed++;
      answered.push({ token, requestId, segment, n, success });
    }
  };
  await Promise.all(opts.tokens.map((t) => caller(t)));
  // Feedback refers to a logged request: the log's batch goes in first.
  await opts.flushRequests();
  let pending = true;
  const feedback = Promise.all(
    answered.map(async (a) => {
      const res = await fetch(`${opts.gatewayUrl}/v1/feedback`, {
        method: "POST",
        headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
        body: JSON.stringify({
          requestId: a.requestId,
          success: a.success,
          groups: { segment: a.segment },
          ...(a.success ? {} : { correction: correctionOf(a.segment, a.n) }),
        }),
      });
      if (res.status !== 202) throw new Error(`feedback refused: ${res.status} ${await res.text()}`);
    }),
  ).finally(() => {
    pending = false;
  });
  while (pending) {
    await opts.flushFeedback();
    await Promise.race([feedback.catch(() => {}), new Promise((r) => setTimeout(r, 5))]);
  }
  await feedback;
  return result;
}
