import { z } from "zod";
import { RouterPolicySchema } from "./router/registration.ts";
import { EmbeddingParametersSchema } from "./shared/embedding.ts";
import { SimulatorParametersSchema } from "./simulator/registration.ts";

/**
 * What each provider kind requires of a registered version. The gateway's adapters
 * (one folder per provider) serve them; here we only validate what a version pins.
 */
export interface ProviderRegistration {
  kind: string;
  description: string;
  endpoint: "required" | "optional" | "forbidden";
  parameters: z.ZodType<Record<string, unknown>>;
}

/** Sampling parameters shared by the HTTP providers; unknown keys pass through to the provider. */
const SamplingParameters = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    max_tokens: z.number().int().min(1).optional(),
    timeout_ms: z.number().int().min(1).max(600_000).optional(),
    embedding: EmbeddingParametersSchema.optional(),
  })
  .catchall(z.unknown());

/** Anthropic's API has no embeddings: a version that claims to be one is refused at registration. */
const AnthropicParameters = SamplingParameters.refine((p) => p.embedding === undefined, {
  message:
    "Anthropic has no embeddings API: register an embedding model on openai, openai-compatible or simulator",
  path: ["embedding"],
});

export const PROVIDERS: Record<string, ProviderRegistration> = {
  openai: {
    kind: "openai",
    description: "OpenAI API (endpoint defaults to https://api.openai.com/v1)",
    endpoint: "optional",
    parameters: SamplingParameters,
  },
  "openai-compatible": {
    kind: "openai-compatible",
    description: "Any OpenAI-compatible server: Azure OpenAI, vLLM, Ollama, hosted APIs",
    endpoint: "required",
    parameters: SamplingParameters,
  },
  anthropic: {
    kind: "anthropic",
    description: "Anthropic Messages API (endpoint defaults to https://api.anthropic.com)",
    endpoint: "optional",
    parameters: AnthropicParameters,
  },
  simulator: {
    kind: "simulator",
    description: "Built-in simulator: configurable latency, errors, tokens and per-group quality",
    endpoint: "forbidden",
    parameters: SimulatorParametersSchema,
  },
  router: {
    kind: "router",
    description:
      "A routing policy over other models: route by rules, complexity or a trained classifier, cascade, or ensemble (docs/routing.md)",
    endpoint: "forbidden",
    parameters: RouterPolicySchema as unknown as z.ZodType<Record<string, unknown>>,
  },
};

export const PROVIDER_KINDS = Object.keys(PROVIDERS) as [string, ...string[]];
