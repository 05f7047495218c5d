import type { CardContent } from "../modules/cards/index.ts";

/** The demo model's card for a version: complete, so approvals can run on it. */
export function demoCard(version: string, successRate: number, notes: string): CardContent {
  return {
    title: `Model Card for support-assistant ${version} (DEMO)`,
    metadata: {
      license: "apache-2.0",
      tags: ["demo", "customer-support", "simulator"],
      language: ["en", "de", "es"],
      base_model: "modelgov/simulator",
      "model-index": [
        {
          name: `support-assistant-${version}`,
          results: [
            {
              task: { type: "text-generation", name: "Support answer" },
              dataset: { name: "demo-support-tickets", type: "modelgov/demo-support-tickets", split: "test" },
              metrics: [{ type: "success_rate", value: successRate, name: "Resolved without escalation" }],
            },
          ],
        },
      ],
    },
    sections: {
      model_details: `DEMO WORKSPACE. A customer-support assistant served by the built-in simulator provider. ${notes}`,
      intended_use:
        "Drafting first answers to customer-support tickets in English, German and Spanish, reviewed by an agent before sending.",
      out_of_scope_use:
        "Legal, medical or financial advice; any reply sent without human review; ticket triage that decides refunds.",
      factors: "Ticket language, customer age band and region, ticket length.",
      metrics: "Success rate (ticket resolved without escalation), p95 latency, cost per 1,000 requests.",
      evaluation_data:
        "500 synthetic support tickets generated for the demo, stratified by language and age band.",
      training_data:
        "Not applicable: the simulator has no weights. A real model card names its training data here.",
      quantitative_analyses: `Overall success rate ${successRate}. Per-group results are produced by the evaluation engine.`,
      ethical_considerations:
        "Answers may be less accurate for non-English tickets; monitor per-group success before widening traffic.",
      caveats_and_recommendations: "Demo data only. Replace with your own models before drawing conclusions.",
    },
    extraSections: [],
  };
}

/** The demo embedding model's card: complete, so its release is approved like the assistant's. */
export function demoEmbeddingsCard(version: string, dimensions: number): CardContent {
  return {
    title: `Model Card for support-embeddings ${version} (DEMO)`,
    metadata: {
      license: "apache-2.0",
      tags: ["demo", "embeddings", "simulator"],
      language: ["en", "de", "es"],
      base_model: "modelgov/simulator",
      "model-index": [
        {
          name: `support-embeddings-${version}`,
          results: [
            {
              task: { type: "feature-extraction", name: "Ticket retrieval" },
              dataset: { name: "demo-support-tickets", type: "modelgov/demo-support-tickets", split: "test" },
              metrics: [{ type: "dimensions", value: dimensions, name: "Vector length" }],
            },
          ],
        },
      ],
    },
    sections: {
      model_details: `DEMO WORKSPACE. An embedding model served by the built-in simulator provider: ${dimensions}-dimensional unit vectors, the same for the same text.`,
      intended_use:
        "Embedding support tickets and help-centre articles for retrieval (similar tickets, suggested articles).",
      out_of_scope_use:
        "Any decision about a customer; semantic judgements: simulated vectors carry no meaning.",
      factors: "Ticket language and length.",
      metrics: "p95 latency, input tokens and cost per 1,000 requests.",
      evaluation_data: "Not evaluated: the simulator's vectors are hashes of the text, not learned.",
      training_data:
        "Not applicable: the simulator has no weights. A real model card names its training data here.",
      quantitative_analyses: "None: simulated vectors.",
      ethical_considerations:
        "A real embedding model may retrieve worse for non-English tickets; measure per language before use.",
      caveats_and_recommendations: "Demo data only. Replace with your own models before drawing conclusions.",
    },
    extraSections: [],
  };
}
