import { createRoute, OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../lib/errors.ts";
import type { AppEnv } from "./context.ts";
import { can, type Permission } from "./permissions.ts";
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
      "unprocessable",
      "upstream_error",
      "unavailable",
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

/** Refuses (403) a caller whose roles lack the permission; authentication (401) ran before. */
export function requirePermission(permission: Permission): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ctx = c.get("ctx");
    if (!can(ctx.roles, permission))
      throw new AppError(
        "forbidden",
        `this needs the '${permission}' permission; your roles: ${(ctx.roles ?? []).join(", ") || "none"}`,
        {
          errors: [{ field: "authorization", reason: `missing permission ${permission}` }],
        },
      );
    await next();
  };
}

type RouteInput = Omit<RouteConfig, "responses"> & { responses: RouteConfig["responses"] };

/**
 * A route with the permission it needs (enforced by middleware and documented as
 * `x-permission`) and the problem responses every endpoint can give. Its operationId
 * (camelCase verb + noun, unique: client generators name methods after it) and summary are
 * required.
 */
export function apiRoute<R extends RouteInput>(
  r: R & { permission: Permission; operationId: string; summary: string },
) {
  const { permission, ...rest } = r;
  return createRoute({
    ...rest,
    middleware: [requirePermission(permission)] as const,
    security: [{ bearerAuth: [] }],
    "x-permission": permission,
    responses: {
      ...rest.responses,
      400: problem("Invalid input: the field and the reason"),
      401: problem("No valid bearer token"),
      403: problem("The token's roles do not allow this"),
      404: problem("Not found"),
      409: problem("Conflict"),
      500: problem("Internal error"),
    },
  } as unknown as R);
}
