import { z } from "zod";

/** A tier's name, as rules, classes, classifiers and the log call it. */
export const TierName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_-]{0,39}$/,
    "a tier name: a lowercase letter, then letters, digits, _ or - (at most 40)",
  );

/** `model`, `model@alias` or `model@1.2.0`: what a client could send as `model`. */
export const Target = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,99}(@[A-Za-z0-9._+-]{1,100})?$/,
    "a model name, optionally @alias or @version (support-small, support-small@canary, support-large@2.1.0)",
  );
