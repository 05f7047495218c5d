import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { can } from "../../http/permissions.ts";
import { toProblem, zodToAppError } from "../../http/problem.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError } from "../../lib/errors.ts";
import { unstorableText } from "../../lib/text-guard.ts";
import type { Principal } from "../identity/index.ts";
import type { FeedbackWriter } from "../request-log/index.ts";
import { type Feedback, FeedbackSchema } from "./feedback.schemas.ts";

export const feedbackId = (tokenId: string, f: Feedback) =>
  `fbk_${createHash("sha256")
    .update(canonicalize({ tokenId, ...f })!)
    .digest("hex")
    .slice(0, 32)}`;

/** What the gateway's HTTP handler sends back: status, headers and a JSON body. */
export interface FeedbackResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

const PROBLEM = { "content-type": "application/problem+json" };

export function createFeedbackService({ writer, clock }: { writer: FeedbackWriter; clock: Clock }) {
  /** Resolves once the feedback is in the database or fsync'd in the spool: only then is it acknowledged. */
  async function submit(principal: Principal, input: Feedback): Promise<{ id: string; requestId: string }> {
    const id = feedbackId(principal.tokenId, input);
    await writer.recordDurable({
      id,
      requestId: input.requestId,
      at: clock.now(),
      success: input.success ?? null,
      score: input.score ?? null,
      labels: input.labels,
      groups: input.groups,
      comment: input.comment,
      correction: input.correction ?? null,
      tokenId: principal.tokenId,
      client: principal.name,
    });
    return { id, requestId: input.requestId };
  }

  /**
   * `POST /v1/feedback`, free of any HTTP framework: the gateway authenticates, parses the
   * JSON and hands over the principal and the body. 202 only once the feedback is durable;
   * problems are application/problem+json like the rest of the API.
   */
  async function handleFeedback(
    principal: Principal,
    jsonBody: unknown,
    opts: { requestId?: string } = {},
  ): Promise<FeedbackResponse> {
    const problem = (err: AppError): FeedbackResponse => {
      const body = toProblem(err, opts.requestId);
      return { status: body.status, headers: PROBLEM, body };
    };
    if (!can(principal.roles, "gateway:use"))
      return problem(
        new AppError("forbidden", "feedback needs the 'gateway:use' permission", {
          errors: [{ field: "authorization", reason: "missing permission gateway:use" }],
        }),
      );
    const parsed = FeedbackSchema.safeParse(jsonBody);
    if (!parsed.success) return problem(zodToAppError(parsed.error, "json"));
    // Text the store cannot hold would fail the batch and never succeed on a retry: refuse it now.
    const unstorable = unstorableText(parsed.data, "body");
    if (unstorable)
      return problem(
        new AppError("invalid_input", `${unstorable.field}: ${unstorable.reason}`, { errors: [unstorable] }),
      );
    try {
      const { id, requestId } = await submit(principal, parsed.data);
      return {
        status: 202,
        headers: { "content-type": "application/json" },
        body: { accepted: true, requestId, feedbackId: id },
      };
    } catch (err) {
      return problem(
        new AppError("internal", `feedback not recorded: ${(err as Error).message}; send it again`),
      );
    }
  }

  return { submit, handleFeedback };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;
