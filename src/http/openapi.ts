import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { AppEnv } from "./context.ts";
import { zodToAppError } from "./problem.ts";

/** Every API router validates through this hook, so bad input is always a problem+json naming the field. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw zodToAppError(result.error, result.target);
    },
  });
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum([
      "not_found",
      "conflict",
      "invalid_input",
      "unauthenticated",
      "forbidden",
      "precondition_failed",
      "upstream_error",
      "internal",
    ]),
    errors: z.array(z.object({ field: z.string(), reason: z.string() })),
    requestId: z.string().optional(),
  })
  .openapi("Problem");

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

export const jsonBody = <T extends z.ZodTypeAny>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const jsonOk = <T extends z.ZodTypeAny>(schema: T, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});

/** A route with the problem responses every endpoint can give. */
export function apiRoute<R extends Omit<RouteConfig, "responses"> & { responses: RouteConfig["responses"] }>(
  r: R,
) {
  return createRoute({
    ...r,
    responses: {
      ...r.responses,
      400: problem("Invalid input: the field and the reason"),
      404: problem("Not found"),
      409: problem("Conflict"),
      500: problem("Internal error"),
    },
  } as R);
}
