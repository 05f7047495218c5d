import { z } from "@hono/zod-openapi";

export const RoleName = z
  .string()
  .max(50)
  .regex(/^[a-z][a-z0-9-]*$/, "a role is lowercase letters, digits and hyphens");

export const TokenCreateSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[A-Za-z0-9._@+-]+$/, "letters, digits and . _ @ + -")
      .describe("who holds the token (a person or a service); recorded as the audit actor"),
    roles: z.array(RoleName).min(1).max(20),
    expiresAt: z.string().datetime({ offset: true }).optional(),
  })
  .strict()
  .openapi("TokenCreate");
export type TokenCreate = z.infer<typeof TokenCreateSchema>;

export const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    roles: z.array(z.string()),
    prefix: z.string().describe("the first characters of the token, to recognise it"),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .openapi("Token");
export type Token = z.infer<typeof TokenSchema>;

export const TokenCreatedSchema = TokenSchema.extend({
  token: z.string().describe("the secret: shown only in this response"),
}).openapi("TokenCreated");
