// A feature flag as data (issue 19): typed variants, a default, targeting rules over an
// evaluation context (the routing engine's conditions, paths naming context attributes),
// sticky percentage rollouts and a schedule. The shapes OpenFeature's OFREP serves: a value, the
// variant that gave it, a reason and, on failure, an error code.

import type { Condition } from "../routing/index.ts";

export type FlagType = "boolean" | "string" | "number" | "object";
export type FlagValue = boolean | string | number | Readonly<Record<string, unknown>> | readonly unknown[];

export interface RolloutSlice {
  variant: string;
  /** A relative weight: slices split the buckets in proportion (50/50, 1/3 …). */
  weight: number;
}

/** A rule gives a variant, or splits among variants, to the contexts its condition holds for (all when absent). */
export type FlagRule =
  | { when?: Condition | undefined; variant: string; rollout?: undefined }
  | { when?: Condition | undefined; rollout: readonly RolloutSlice[]; variant?: undefined };

export interface FlagSchedule {
  /** On from this instant (ISO 8601), inclusive. */
  onAt?: string | undefined;
  /** Off from this instant (ISO 8601), inclusive. */
  offAt?: string | undefined;
}

export interface FlagDefinition {
  key: string;
  type: FlagType;
  variants: Readonly<Record<string, FlagValue>>;
  defaultVariant: string;
  enabled: boolean;
  rules?: readonly FlagRule[] | undefined;
  schedule?: FlagSchedule | undefined;
}

/** OpenFeature's resolution reasons. */
export type Reason = "STATIC" | "TARGETING_MATCH" | "SPLIT" | "DEFAULT" | "DISABLED" | "ERROR";
/** OpenFeature's error codes (OFREP's). */
export type ErrorCode =
  | "FLAG_NOT_FOUND"
  | "TYPE_MISMATCH"
  | "TARGETING_KEY_MISSING"
  | "PARSE_ERROR"
  | "GENERAL";

/** An evaluation context: attributes, with the subject a rollout hashes under `targetingKey`. */
export type EvaluationContext = Readonly<Record<string, unknown>>;

export type Resolution =
  | {
      readonly key: string;
      readonly value: FlagValue;
      readonly variant: string;
      readonly reason: Exclude<Reason, "ERROR">;
      readonly errorCode?: undefined;
      readonly errorDetails?: undefined;
    }
  | {
      readonly key: string;
      readonly value?: undefined;
      readonly variant?: undefined;
      readonly reason: "ERROR";
      readonly errorCode: ErrorCode;
      readonly errorDetails: string;
    };

/** A flag definition that does not hold together: `at` names where (`rules.1.rollout.0.variant`). */
export class FlagDefinitionError extends Error {
  constructor(
    readonly at: string,
    message: string,
  ) {
    super(`${at ? `${at}: ` : ""}${message}`);
  }
}

/** Whether a value has the flag's type (an object flag takes objects and arrays: OpenFeature's structures). */
export function hasType(value: unknown, type: FlagType): value is FlagValue {
  switch (type) {
    case "boolean":
      return typeof value === "boolean";
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    default:
      return value !== null && typeof value === "object";
  }
}

/** A flag key: letters, digits and `._-`, as OpenFeature keys are used in practice; safe in a URL path. */
export const FLAG_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
