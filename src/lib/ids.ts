import { randomBytes } from "node:crypto";

/** Prefixed, roughly time-ordered ids: `mdl_lx3k9a0f1b2c3d4e5f6a7b8`. */
export function newId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(8).toString("hex")}`;
}
