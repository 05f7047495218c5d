import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { AppError } from "../../lib/errors.ts";
import { type CardContent, SECTION_KEYS, type SectionKey, validateCard } from "./card-sections.ts";
import { parseHfCard, renderHfCard } from "./hf-format.ts";

const read = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

/** The fixture's front matter parsed straight with `yaml`, independently of hf-format. */
function frontMatterOf(text: string): unknown {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  assert.ok(m, "fixture starts with front matter");
  return parse(m[1]!);
}

function expectInvalidFrontMatter(text: string, reason: RegExp) {
  assert.throws(
    () => parseHfCard(text),
    (err: unknown) => {
      assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
      assert.equal(err.code, "invalid_input");
      assert.equal(err.errors.length, 1);
      assert.equal(err.errors[0]!.field, "card.frontMatter");
      assert.match(err.errors[0]!.reason, reason);
      return true;
    },
  );
}

interface Expectation {
  file: string;
  title: string;
  sections: SectionKey[];
  /** Sentences that must land in exactly this section and in no other. */
  sentences: Partial<Record<SectionKey, string[]>>;
  extras: [heading: string, level: number][];
  /** `#` lines inside code fences: kept as text, never read as headings. */
  fencedHashLines: string[];
}

const FIXTURES: Expectation[] = [
  {
    file: "sentiment-distilbert.md",
    title: "distilbert-imdb-polarity",
    sections: ["model_details", "intended_use", "training_data"],
    sentences: {
      model_details: [
        "This model is a fine-tuned version of [distilbert/distilbert-base-uncased]",
        "A six-layer distilled BERT encoder",
      ],
      intended_use: ["Use it to score the overall polarity", "It was never shown sarcasm-heavy text"],
      training_data: ["The 25,000 labelled training reviews were split 90/10"],
    },
    extras: [
      ["Training procedure", 2],
      ["Training hyperparameters", 3],
      ["Training results", 3],
      ["Framework versions", 3],
    ],
    fencedHashLines: [
      "# Load the classifier once and reuse it",
      "# Returns [{'label': 'POSITIVE', 'score': 0.99...}]",
    ],
  },
  {
    file: "instruct-llm.md",
    title: "Model Card for tern-7b-instruct",
    sections: [
      "model_details",
      "intended_use",
      "out_of_scope_use",
      "ethical_considerations",
      "caveats_and_recommendations",
      "training_data",
      "quantitative_analyses",
      "evaluation_data",
      "factors",
      "metrics",
    ],
    sentences: {
      model_details: [
        "tern-7b-instruct is a 7-billion-parameter chat model",
        "The model starts from the tern-7b base checkpoint",
        "### Model Sources [optional]",
      ],
      intended_use: [
        "Drafting and summarising text",
        "### Downstream Use [optional]\n\nTeams may fine-tune the model further",
      ],
      out_of_scope_use: ["Do not use the model for medical, legal or financial advice"],
      ethical_considerations: ["The model can state falsehoods with confidence"],
      caveats_and_recommendations: ["Keep a human in the loop"],
      training_data: ["About 420k instruction-response pairs"],
      evaluation_data: ["MMLU (5-shot), a German translation of MT-Bench"],
      factors: ["Results are broken down by language"],
      metrics: ["Accuracy for multiple-choice benchmarks"],
      quantitative_analyses: [
        "We evaluated the final checkpoint",
        "### Results\n\n| Benchmark | Score |",
        "#### Summary\n\nThe tuned model gains about four MMLU points",
      ],
    },
    extras: [
      ["How to Get Started with the Model", 2],
      ["Training Details", 2],
      ["Training Procedure", 3],
      ["Preprocessing", 4],
      ["Training Hyperparameters", 4],
      ["Environmental Impact", 2],
      ["Citation", 2],
    ],
    fencedHashLines: [
      "# install a recent transformers release",
      "# Load the tokenizer and model",
      "## Build a chat prompt with the bundled template",
      "# SFT stage",
      "# DPO stage",
    ],
  },
  {
    file: "speech-whisper.md",
    title: "murmur-small-multilingual",
    sections: [
      "model_details",
      "intended_use",
      "training_data",
      "quantitative_analyses",
      "caveats_and_recommendations",
      "ethical_considerations",
    ],
    sentences: {
      model_details: [
        "murmur-small is a 240M-parameter",
        "The encoder reads 30-second log-Mel spectrogram windows",
      ],
      intended_use: ["The primary users are developers building captioning"],
      training_data: ["310,000 hours of transcribed speech"],
      quantitative_analyses: ["On our own accented\nEnglish test set the word error rate is 7.4%"],
      caveats_and_recommendations: ["Performance is uneven across languages"],
      ethical_considerations: ["lowers the cost of surveillance"],
    },
    extras: [
      ["Usage", 2],
      ["Long-form transcription", 3],
      ["Fine-tuning", 2],
      ["BibTeX entry and citation info", 2],
    ],
    fencedHashLines: ["# Force the language instead of letting the model guess it"],
  },
  {
    file: "template-placeholders.md",
    title: "Model Card for acme/ticket-router-v2",
    sections: [
      "model_details",
      "intended_use",
      "out_of_scope_use",
      "ethical_considerations",
      "caveats_and_recommendations",
      "training_data",
    ],
    sentences: {
      model_details: [
        "A multilingual classifier that assigns incoming support tickets",
        "Fine-tuned XLM-R base",
      ],
      intended_use: ["<!-- Use after further fine-tuning, or as one component of a larger application. -->"],
      out_of_scope_use: ["<!-- Misuse, malicious use, and settings where the model will not work well. -->"],
    },
    extras: [
      ["How to Get Started with the Model", 2],
      ["Training Details", 2],
      ["Training Procedure", 3],
      ["Preprocessing [optional]", 4],
      ["Training Hyperparameters", 4],
      ["Environmental Impact", 2],
      ["Technical Specifications [optional]", 2],
      ["Model Architecture and Objective", 3],
      ["Compute Infrastructure", 3],
      ["Hardware", 4],
      ["Software", 4],
      ["Citation [optional]", 2],
      ["Glossary [optional]", 2],
      ["More Information [optional]", 2],
      ["Model Card Contact", 2],
    ],
    fencedHashLines: [],
  },
];

function everyBody(card: CardContent): string[] {
  return [...Object.values(card.sections), ...card.extraSections.map((e) => e.body)];
}

for (const fx of FIXTURES) {
  describe(`fixture ${fx.file}`, () => {
    const text = read(fx.file);
    const card = parseHfCard(text);

    test("metadata equals the front matter parsed with yaml, key order included", () => {
      const expected = frontMatterOf(text);
      assert.deepEqual(card.metadata, expected);
      assert.equal(JSON.stringify(card.metadata), JSON.stringify(expected));
    });

    test("title and standard sections", () => {
      assert.equal(card.title, fx.title);
      assert.deepEqual(Object.keys(card.sections).sort(), [...fx.sections].sort());
      for (const [key, sentences] of Object.entries(fx.sentences)) {
        for (const sentence of sentences) {
          const holders = SECTION_KEYS.filter((k) => card.sections[k]?.includes(sentence));
          assert.deepEqual(holders, [key], `"${sentence}" should be only in ${key}`);
        }
      }
    });

    test("section bodies have no leading or trailing blank lines", () => {
      for (const body of everyBody(card)) {
        assert.doesNotMatch(body, /^[ \t]*\n|\n[ \t]*$/);
      }
    });

    test("unmapped headings become extra sections, in document order", () => {
      assert.deepEqual(
        card.extraSections.map((e) => [e.heading, e.level]),
        fx.extras,
      );
    });

    test("# lines inside code fences stay text", () => {
      const headings = [...card.extraSections.map((e) => e.heading), card.title];
      for (const line of fx.fencedHashLines) {
        const text = line.replace(/^#+ /, "");
        assert.ok(!headings.includes(text), `"${text}" was read as a heading`);
        assert.ok(
          everyBody(card).some((body) => body.split("\n").includes(line)),
          `"${line}" should be kept in a body`,
        );
      }
    });

    test("render → parse gives the same card, and render is stable", () => {
      const rendered = renderHfCard(card);
      const again = parseHfCard(rendered);
      assert.deepEqual(again, card);
      assert.equal(JSON.stringify(again.metadata), JSON.stringify(frontMatterOf(text)));
      assert.equal(renderHfCard(again), rendered);
    });

    test("CRLF line endings and a byte-order mark parse the same", () => {
      assert.deepEqual(parseHfCard(`\uFEFF${text.replace(/\n/g, "\r\n")}`), card);
    });
  });
}

describe("fixture specifics", () => {
  test("the placeholder template validates as placeholder / empty / absent", () => {
    const card = parseHfCard(read("template-placeholders.md"));
    const result = validateCard(card, SECTION_KEYS);
    assert.equal(result.complete, false);
    assert.deepEqual(Object.fromEntries(result.missing.map((m) => [m.section, m.reason])), {
      intended_use: "placeholder",
      out_of_scope_use: "empty",
      factors: "absent",
      metrics: "absent",
      evaluation_data: "absent",
      training_data: "placeholder",
      quantitative_analyses: "absent",
      ethical_considerations: "placeholder",
      caveats_and_recommendations: "placeholder",
    });
  });

  test("a template heading over a placeholder is not kept, so the section still reads as a placeholder", () => {
    const card = parseHfCard(read("template-placeholders.md"));
    assert.doesNotMatch(card.sections.intended_use!, /Downstream Use/);
    assert.match(card.sections.intended_use!, /<!-- Use after further fine-tuning/);
  });

  test("a commented-out heading is not a heading", () => {
    const card = parseHfCard(read("template-placeholders.md"));
    const contact = card.extraSections.find((e) => e.heading === "Model Card Contact");
    assert.match(contact!.body, /<!--\n## Evaluation\nRemoved until/);
    assert.equal(card.sections.quantitative_analyses, undefined);
  });

  test("model-index survives with nested results across several datasets", () => {
    const card = parseHfCard(read("speech-whisper.md"));
    const index = card.metadata["model-index"] as { results: { dataset: { config: string } }[] }[];
    assert.deepEqual(
      index[0]!.results.map((r) => r.dataset.config),
      ["clean", "other", "de", "nb_no"],
    );
    assert.ok((card.metadata["language"] as string[]).includes("no"));
  });

  test("strings a YAML 1.1 reader would not read back as strings are quoted", () => {
    const rendered = renderHfCard(parseHfCard(read("speech-whisper.md")));
    assert.match(rendered, /^- "no"$/m);
    const meta = { flag: "yes", date: "2024-05-01", time: "12:30", on: "off", plain: "nb_no" };
    const out = renderHfCard({ metadata: meta, sections: {}, extraSections: [] });
    assert.equal(
      out,
      '---\nflag: "yes"\ndate: "2024-05-01"\ntime: "12:30"\n"on": "off"\nplain: nb_no\n---\n',
    );
    assert.deepEqual(parseHfCard(out).metadata, meta);
  });
});

describe("front matter", () => {
  test("invalid YAML is invalid_input on card.frontMatter, quoting the parser", () => {
    expectInvalidFrontMatter("---\nlicense: [mit\n---\n# x\n", /^invalid YAML: .*line 2/);
    expectInvalidFrontMatter(
      "---\nlicense: mit\nlicense: apache-2.0\n---\n",
      /invalid YAML: Map keys must be unique/,
    );
  });

  test("front matter JSON cannot hold (.inf, 1e400, a NUL escape) is invalid_input naming the key, not a 500 from the hash", () => {
    for (const [yaml, field, reason] of [
      [
        "model-index:\n  - results: [{metrics: [{value: 1e400}]}]",
        "card.frontMatter.model-index.0.results.0.metrics.0.value",
        /finite/,
      ],
      ["score: .inf", "card.frontMatter.score", /finite/],
      ["score: .nan", "card.frontMatter.score", /finite/],
      ['license: "a\\0b"', "card.frontMatter.license", /NUL/],
    ] as const)
      assert.throws(
        () => parseHfCard(`---\n${yaml}\n---\n# x\n`),
        (err: unknown) => {
          assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
          assert.equal(err.code, "invalid_input");
          assert.equal(err.errors[0]!.field, field);
          assert.match(err.errors[0]!.reason, reason);
          return true;
        },
        yaml,
      );
    // Large finite numbers are fine.
    assert.equal(parseHfCard("---\nscore: 1e308\n---\n# x\n").metadata.score, 1e308);
  });

  test("front matter that is not a mapping is rejected", () => {
    expectInvalidFrontMatter("---\n- a\n- b\n---\n# x\n", /must be a YAML mapping, got a list/);
    expectInvalidFrontMatter("---\njust a string\n---\n# x\n", /must be a YAML mapping, got string/);
  });

  test("front matter that is never closed is rejected", () => {
    expectInvalidFrontMatter("---\nlicense: mit\n# Title\n", /never closed/);
  });

  test("no front matter gives empty metadata, and none is written back", () => {
    const card = parseHfCard("# Plain card\n\n## Metrics\n\nF1.\n");
    assert.deepEqual(card, {
      title: "Plain card",
      metadata: {},
      sections: { metrics: "F1." },
      extraSections: [],
    });
    assert.equal(renderHfCard(card), "# Plain card\n\n## Metrics\n\nF1.\n");
  });

  test("empty front matter is empty metadata", () => {
    assert.deepEqual(parseHfCard("---\n---\n# T\n").metadata, {});
  });

  test("scalars, nesting and key order survive a round trip", () => {
    const metadata = {
      zeta: 1,
      alpha: [1.5, -0, 1e21, true, null, "", "012", "line one\nline two\n"],
      nested: { b: { c: [{ d: "x" }] }, a: [] },
      "model-index": [{ name: "m", results: [] }],
      "": "empty key",
      "key: with colon": "#not a comment",
    };
    const card = parseHfCard(renderHfCard({ metadata, sections: {}, extraSections: [] }));
    assert.deepEqual(card.metadata, metadata);
    assert.equal(JSON.stringify(card.metadata), JSON.stringify(metadata));
  });
});

describe("headings", () => {
  test("aliases are matched after normalising case, punctuation, emphasis and [optional]", () => {
    const card = parseHfCard(
      [
        "## **Intended Uses & Limitations**",
        "a",
        "## 2. out of scope uses",
        "b",
        "## Misuse and Out-of-scope Use",
        "c",
        "## _Evaluation Results_ ##",
        "d",
      ].join("\n"),
    );
    assert.deepEqual(card.sections, {
      intended_use: "a",
      out_of_scope_use: "b\n\n### Misuse and Out-of-scope Use\n\nc",
      quantitative_analyses: "d",
    });
  });

  test("sub-headings of a mapped heading are absorbed one level below the exported section", () => {
    const card = parseHfCard("# Model Details\n\nx\n\n## Architecture\n\ny\n\n### Layers\n\nz\n");
    assert.equal(card.title, undefined);
    assert.equal(card.sections.model_details, "x\n\n### Architecture\n\ny\n\n#### Layers\n\nz");
    assert.deepEqual(card.extraSections, []);
  });

  test("an empty container is dropped only when nothing under it stays an extra section", () => {
    const dropped = parseHfCard("## Training Details\n\n### Training Data\n\nd\n\n## Notes\n\nn\n");
    assert.deepEqual(dropped.extraSections, [{ heading: "Notes", level: 2, body: "n" }]);
    const kept = parseHfCard("## Training Details\n\n### Training Data\n\nd\n\n### Procedure\n\np\n");
    assert.deepEqual(
      kept.extraSections.map((e) => e.heading),
      ["Training Details", "Procedure"],
    );
    const withText = parseHfCard("## Uses in practice\n\n<!-- fill in -->\n\n### Direct Use\n\nd\n");
    assert.deepEqual(withText.extraSections, [
      { heading: "Uses in practice", level: 2, body: "<!-- fill in -->" },
    ]);
  });

  test("text before the first heading and under the title opens model_details", () => {
    const card = parseHfCard("![badge](b.svg)\n\n# Title\n\nSummary.\n\n## Model Details\n\nMore.\n");
    assert.equal(card.sections.model_details, "![badge](b.svg)\n\nSummary.\n\nMore.");
  });

  test("a heading text ending in # and an unterminated fence survive export", () => {
    const card = parseHfCard(
      "# Notes on C #\n\n## Why F# #\n\ntext\n\n## Metrics\n\n```\n# not a heading\n## Factors\n",
    );
    assert.equal(card.title, "Notes on C");
    assert.deepEqual(card.extraSections, [{ heading: "Why F#", level: 2, body: "text" }]);
    assert.equal(card.sections.metrics, "```\n# not a heading\n## Factors\n```");
    assert.equal(card.sections.factors, undefined);
    const titled = { ...card, title: "Ends with #" };
    assert.deepEqual(parseHfCard(renderHfCard(titled)), titled);
  });

  test("setext (underlined) headings are headings: the title and the sections are kept", () => {
    const card = parseHfCard(
      [
        "---",
        "license: mit",
        "---",
        "Sentiment Classifier",
        "====================",
        "",
        "A small classifier.",
        "",
        "Intended Use",
        "------------",
        "",
        "Routing support tickets.",
        "",
        "```bash",
        "# not a heading",
        "pip install x",
        "```",
        "",
        "Training",
        "Data",
        "--------",
        "",
        "Tickets from 2025.",
        "",
        "## Limitations",
        "",
        "English only.",
        "",
        "How to Get Started",
        "------------------",
        "",
        "~~~",
        "# not a heading either",
        "Nor this",
        "---------",
        "~~~",
        "",
      ].join("\n"),
    );
    assert.equal(card.title, "Sentiment Classifier");
    assert.deepEqual(card.metadata, { license: "mit" });
    assert.equal(card.sections.model_details, "A small classifier.");
    assert.equal(
      card.sections.intended_use,
      "Routing support tickets.\n\n```bash\n# not a heading\npip install x\n```",
    );
    assert.equal(card.sections.training_data, "Tickets from 2025.", "a setext heading over two lines");
    assert.equal(card.sections.caveats_and_recommendations, "English only.");
    assert.deepEqual(card.extraSections, [
      {
        heading: "How to Get Started",
        level: 2,
        body: "~~~\n# not a heading either\nNor this\n---------\n~~~",
      },
    ]);
    const rendered = renderHfCard(card);
    assert.deepEqual(parseHfCard(rendered), card);
    assert.equal(renderHfCard(parseHfCard(rendered)), rendered);
  });

  test("a setext heading in a section's body is pushed down as an ATX heading on export", () => {
    const card = parseHfCard("## Metrics\n\nF1.\n\n### Per class\n\nsee table\n");
    const moved = {
      ...card,
      sections: { metrics: "Per class\n---------\n\nF1 by class.\n\nDetail\n======\n\nx" },
    };
    const rendered = renderHfCard(moved);
    assert.match(rendered, /^## Metrics\n\n#### Per class\n\nF1 by class\.\n\n### Detail\n\nx\n$/m);
    assert.equal(parseHfCard(rendered).sections.metrics, "#### Per class\n\nF1 by class.\n\n### Detail\n\nx");
  });

  test("extra sections deeper than ## are written before the standard sections", () => {
    const card = parseHfCard(
      "# T\n\n### Note\n\nn\n\n#### Sub\n\ns\n\n## Metrics\n\nm\n\n## Appendix\n\na\n",
    );
    assert.deepEqual(
      card.extraSections.map((e) => [e.heading, e.level]),
      [
        ["Note", 3],
        ["Sub", 4],
        ["Appendix", 2],
      ],
    );
    const rendered = renderHfCard(card);
    assert.equal(rendered, "# T\n\n### Note\n\nn\n\n#### Sub\n\ns\n\n## Metrics\n\nm\n\n## Appendix\n\na\n");
    assert.deepEqual(parseHfCard(rendered), card);
  });
});

describe("renderHfCard", () => {
  test("writes sections in standard order with standard titles, then extras", () => {
    const out = renderHfCard({
      title: "M",
      metadata: { license: "mit" },
      sections: { metrics: "F1", model_details: "About" },
      extraSections: [{ heading: "Citation", level: 2, body: "cite" }],
    });
    assert.equal(
      out,
      "---\nlicense: mit\n---\n\n# M\n\n## Model Details\n\nAbout\n\n## Metrics\n\nF1\n\n## Citation\n\ncite\n",
    );
  });

  test("headings inside an edited section body are demoted so they stay in the section", () => {
    const content: CardContent = {
      metadata: {},
      sections: { training_data: "Intro\n\n## Sources\n\nweb\n\n### Licences\n\nmixed" },
      extraSections: [],
    };
    const out = renderHfCard(content);
    assert.match(out, /\n### Sources\n\nweb\n\n#### Licences\n/);
    const back = parseHfCard(out);
    assert.equal(back.sections.training_data, "Intro\n\n### Sources\n\nweb\n\n#### Licences\n\nmixed");
    assert.deepEqual(back.extraSections, []);
  });
});

/** Seeded PRNG (mulberry32) so that a failure reproduces. */
function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("idempotence on generated cards", () => {
  const HEADINGS = [
    "Model Details",
    "Model Description",
    "Uses",
    "Direct Use",
    "Downstream Use [optional]",
    "Out-of-Scope Use",
    "Evaluation",
    "Testing Data, Factors & Metrics",
    "Results",
    "Metrics",
    "Limitations",
    "Recommendations",
    "Training Details",
    "Training Procedure",
    "Notes",
    "How to use",
    "Citation",
    "C#",
    "Ends in # #",
    "Tabbed\theading",
    "Appendix",
    "Title",
  ];
  const BODIES = [
    "",
    "Plain text.",
    "[More Information Needed]",
    "<!-- a template comment -->",
    "<!-- c -->\n\n[More Information Needed]",
    "```\n# not a heading\n```",
    "~~~~\n## nope\n```\n~~~~",
    "<!--\n# hidden\n-->",
    "```py\n# unclosed fence",
    "<!-- unclosed comment\n## hidden",
    "- item\n- item two",
    "####### seven hashes",
    "#",
    "text\n\n\n\nmore text",
    "   indented first line",
    "Underlined\n==========\n\ntext",
    "Also underlined\n---\n\n```\n# fenced\n```",
  ];

  test("parse(render(parse(x))) equals parse(x) and render is stable", () => {
    const next = rng(20240611);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
    for (let i = 0; i < 400; i++) {
      const parts: string[] = [];
      if (next() < 0.5) parts.push(`---\nlicense: mit\nlanguage:\n- "no"\nn: ${i}\n---`);
      if (next() < 0.3) parts.push(pick(BODIES));
      const count = Math.floor(next() * 10);
      for (let j = 0; j < count; j++) {
        parts.push(`${"#".repeat(1 + Math.floor(next() * 5))} ${pick(HEADINGS)}`, pick(BODIES));
      }
      const source = parts.join("\n\n");
      const once = parseHfCard(source);
      const rendered = renderHfCard(once);
      assert.deepEqual(parseHfCard(rendered), once, `case ${i}:\n${source}`);
      assert.equal(renderHfCard(parseHfCard(rendered)), rendered, `case ${i}:\n${source}`);
    }
  });
});
