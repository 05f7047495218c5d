import type { FlagDefinition } from "../../engines/flags/index.ts";
import type { Flag } from "./flags.schemas.ts";

/** A stored or written flag as the engine's definition. */
export function toDefinition(
  f: Pick<Flag, "key" | "type" | "variants" | "defaultVariant" | "enabled" | "rules" | "schedule">,
): FlagDefinition {
  return {
    key: f.key,
    type: f.type,
    variants: f.variants as FlagDefinition["variants"],
    defaultVariant: f.defaultVariant,
    enabled: f.enabled,
    rules: f.rules as FlagDefinition["rules"],
    schedule: f.schedule,
  };
}
