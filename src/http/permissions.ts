/**
 * What each role may do. Built-in roles: admin (everything), engineering (registry and
 * flag writes, approval requests, signing as engineering), viewer (read-only, flag
 * evaluation included), agent (the gateway and flag evaluation). Any other role is a
 * stakeholder role named by an approval policy (compliance, security, product, operations,
 * executive, ...): it reads and signs as that role. Kill switches (killswitches:write) are
 * admin's alone: one cuts traffic to every model on a provider.
 */
export const PERMISSIONS = [
  "registry:read",
  "registry:write",
  "approvals:read",
  "approvals:request",
  "approvals:sign",
  "approvals:admin",
  "audit:read",
  "tokens:admin",
  "policy:admin",
  "webhooks:admin",
  "gateway:use",
  "rollouts:write",
  "evals:run",
  "evals:accept",
  "retraining:write",
  "retraining:dismiss",
  "killswitches:write",
  "flags:read",
  "flags:write",
  "flags:evaluate",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ: Permission[] = ["registry:read", "approvals:read", "audit:read", "flags:read", "flags:evaluate"];

export const ROLE_PERMISSIONS: Record<string, readonly Permission[]> = {
  admin: PERMISSIONS,
  engineering: [
    ...READ,
    "registry:write",
    "approvals:request",
    "approvals:sign",
    "rollouts:write",
    "evals:run",
    "retraining:write",
    "flags:write",
  ],
  viewer: READ,
  // Agents evaluate flags (OFREP) as they call the gateway: the same token serves both.
  agent: ["gateway:use", "flags:evaluate"],
};

/**
 * Stakeholder roles (any role not built in) read and sign approvals for their role, may
 * accept a flagged group disparity with a justification (engineering, who built the version,
 * may not), and may dismiss a retraining task with one: dismissing accepts a degraded model,
 * a decision for the people who answer for it, not for those who would do the retraining.
 */
export const STAKEHOLDER_PERMISSIONS: readonly Permission[] = [
  ...READ,
  "approvals:sign",
  "evals:accept",
  "retraining:dismiss",
];

export const BUILT_IN_ROLES = Object.keys(ROLE_PERMISSIONS);

/**
 * The stakeholder roles every workspace knows (the sign-off roles of the product brief).
 * Other stakeholder roles exist only when an approval policy rule names them, so a typo
 * (`complience`) cannot mint a role that may sign or accept disparities.
 */
export const STANDARD_STAKEHOLDER_ROLES = ["compliance", "security", "product", "operations", "executive"];

export function permissionsOf(roles: readonly string[]): Set<Permission> {
  const out = new Set<Permission>();
  for (const r of roles) for (const p of ROLE_PERMISSIONS[r] ?? STAKEHOLDER_PERMISSIONS) out.add(p);
  return out;
}

export function can(roles: readonly string[] | undefined, p: Permission): boolean {
  return permissionsOf(roles ?? []).has(p);
}
