// Plain data, no imports: the web console reads it too.
/**
 * The standard model-card sections (Mitchell et al., "Model Cards for Model Reporting",
 * 2019), keyed for the API. Titles are what the Markdown export writes.
 */
export const STANDARD_SECTIONS = [
  { key: "model_details", title: "Model Details" },
  { key: "intended_use", title: "Intended Use" },
  { key: "out_of_scope_use", title: "Out-of-Scope Use" },
  { key: "factors", title: "Factors" },
  { key: "metrics", title: "Metrics" },
  { key: "evaluation_data", title: "Evaluation Data" },
  { key: "training_data", title: "Training Data" },
  { key: "quantitative_analyses", title: "Quantitative Analyses" },
  { key: "ethical_considerations", title: "Ethical Considerations" },
  { key: "caveats_and_recommendations", title: "Caveats and Recommendations" },
] as const;
