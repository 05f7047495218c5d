import { z } from "zod";
import { SpecSchema } from "./spec.schemas.ts";

/** The JSON Schema of modelgov.yaml (editors validate and complete with it); shipped as schema/modelgov.schema.json. */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(SpecSchema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: "https://modelgov.dev/schema/modelgov.schema.json",
    title: "modelgov governance spec (modelgov.yaml)",
  };
}
