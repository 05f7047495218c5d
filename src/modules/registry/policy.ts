import { z } from "@hono/zod-openapi";
import type { Queryable } from "../../store/db.ts";
import { SECTION_KEYS, type SectionKey, SectionKeySchema } from "../cards/card-sections.ts";
import { DEFAULT_RETENTION } from "./lifecycle.ts";
import { RetentionSchema } from "./registry.schemas.ts";

/** Workspace-wide registry policy; `modelgov apply` sets it from the spec's `registry:` section. */
export const RegistryPolicySchema = z
  .object({
    retention: RetentionSchema,
    requiredCardSections: z.array(SectionKeySchema).max(SECTION_KEYS.length),
  })
  .strict()
  .openapi("RegistryPolicy");
export type RegistryPolicy = z.infer<typeof RegistryPolicySchema>;

export const DEFAULT_POLICY: RegistryPolicy = {
  retention: DEFAULT_RETENTION,
  requiredCardSections: [...SECTION_KEYS] as SectionKey[],
};

export async function readPolicy(q: Queryable): Promise<RegistryPolicy> {
  const rows = await q.query<{ policy: RegistryPolicy }>(
    "SELECT policy FROM registry_policy WHERE id = 'default'",
  );
  return rows[0] ? { ...DEFAULT_POLICY, ...rows[0].policy } : DEFAULT_POLICY;
}

export async function writePolicy(q: Queryable, policy: RegistryPolicy, at: string): Promise<void> {
  await q.query(
    `INSERT INTO registry_policy (id, policy, updated_at) VALUES ('default', $1, $2)
     ON CONFLICT (id) DO UPDATE SET policy = EXCLUDED.policy, updated_at = EXCLUDED.updated_at`,
    [JSON.stringify(policy), at],
  );
}
