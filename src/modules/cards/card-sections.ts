import { z } from "zod";

import { STANDARD_SECTIONS } from "./standard-sections.ts";

export { STANDARD_SECTIONS };

export type SectionKey = (typeof STANDARD_SECTIONS)[number]["key"];
export const SECTION_KEYS = STANDARD_SECTIONS.map((s) => s.key) as [SectionKey, ...SectionKey[]];
export const SectionKeySchema = z.enum(SECTION_KEYS);

export const CardContentSchema = z
  .object({
    /** The card's H1 title, e.g. "Model Card for support-assistant". */
    title: z.string().max(500).optional(),
    /**
     * Hugging Face front matter, kept verbatim and in order (license, tags, datasets,
     * base_model, language, pipeline_tag, model-index, and any other key).
     */
    metadata: z.record(z.string(), z.unknown()).default({}),
    /** Markdown per standard section. */
    sections: z.partialRecord(SectionKeySchema, z.string().max(200_000)).default({}),
    /** Markdown sections that map to no standard section, kept in order for a lossless round trip. */
    extraSections: z
      .array(
        z.object({
          heading: z.string().min(1).max(500),
          level: z.number().int().min(1).max(6),
          body: z.string(),
        }),
      )
      .default([]),
  })
  .strict();

export type CardContent = z.infer<typeof CardContentSchema>;

export type MissingReason = "absent" | "empty" | "placeholder";

export interface CardValidation {
  complete: boolean;
  required: SectionKey[];
  missing: { section: SectionKey; title: string; reason: MissingReason }[];
}

/** Text that template cards leave in place of content; a section holding only this is missing. */
const PLACEHOLDER = /^\s*(\[?more information needed\]?|tbd|todo|n\/a|-+)\s*\.?\s*$/i;

export function sectionTitle(key: SectionKey): string {
  return STANDARD_SECTIONS.find((s) => s.key === key)!.title;
}

/** Reports exactly which required sections are absent, empty or template placeholders. */
export function validateCard(content: CardContent, required: readonly SectionKey[]): CardValidation {
  const missing: CardValidation["missing"] = [];
  for (const key of required) {
    const body = content.sections[key];
    let reason: MissingReason | undefined;
    if (body === undefined) reason = "absent";
    else if (body.replace(/<!--[\s\S]*?-->/g, "").trim() === "") reason = "empty";
    // Comments go before splitting: the HF template puts one on its own line above each placeholder.
    else if (
      body
        .replace(/<!--[\s\S]*?-->/g, "")
        .split("\n")
        .every((line) => line.trim() === "" || PLACEHOLDER.test(line))
    )
      reason = "placeholder";
    if (reason) missing.push({ section: key, title: sectionTitle(key), reason });
  }
  return { complete: missing.length === 0, required: [...required], missing };
}
