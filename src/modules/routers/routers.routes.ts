import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import { SemverString, Slug, VersionSchema } from "../registry/index.ts";
import type { RoutersService } from "./routers.service.ts";

const tags = ["routing"];
const SuiteHash = z
  .string()
  .regex(/^sha256:[a-f0-9]{64}$/, "a suite's hash (sha256:…), as an evaluation run of it shows")
  .describe("the suite, by its hash: it must have been evaluated on each tier alone");
const Target = z
  .number()
  .gt(0)
  .max(1)
  .describe("the success rate to reach (0.9), or with relativeToStrong a share of always-strong's (0.95)");

export const CalibrateSchema = z
  .object({
    suiteHash: SuiteHash,
    target: Target,
    relativeToStrong: z
      .boolean()
      .default(false)
      .describe("target is a share of the strong tier's own success"),
    as: SemverString.describe("the new router version's number (registered in development)"),
  })
  .strict()
  .openapi("RouterCalibrate");

const Time = z.string().datetime({ offset: true });

const FromFeedback = z
  .object({
    since: Time.optional().describe("the window's start (default: 30 days before until)"),
    until: Time.optional().describe("the window's end (default: now)"),
    minPerLabel: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(20)
      .describe("the fewest labelled examples a tier needs, else the training is refused"),
  })
  .strict()
  .describe(
    "label the requests of the router model and its tiers' models over the window by their latest feedback (docs/routing.md: the labelling rules); instead of suiteHash",
  );

export const TrainSchema = z
  .object({
    suiteHash: SuiteHash.optional(),
    fromFeedback: FromFeedback.optional(),
    as: SemverString.describe("the new router version's number (registered in development)"),
    tiers: z
      .array(z.object({ name: z.string(), target: z.string() }).strict())
      .min(2)
      .max(8)
      .optional()
      .describe("the tiers, cheapest first; else those of `from`"),
    from: SemverString.optional().describe(
      "a router version of the model to start from: tiers, card, contract, tags",
    ),
    target: Target.optional().describe(
      "also calibrate the threshold to this target (two tiers; a suite only: refused with fromFeedback)",
    ),
    relativeToStrong: z.boolean().default(false),
    l2: z.number().positive().max(1e6).default(1).describe("the L2 penalty of the logistic regression"),
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.suiteHash === undefined) === (b.fromFeedback === undefined))
      ctx.addIssue({
        code: "custom",
        path: ["suiteHash"],
        message: "name a suite (suiteHash) or train from feedback (fromFeedback), one of the two",
      });
  })
  .openapi("RouterTrain");

const Calibration = z
  .record(z.string(), z.unknown())
  .describe(
    "the suite, the target, the chosen point, always-cheap and always-strong, the curve and the runs read",
  );

export function routersRoutes(svc: RoutersService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "calibrateRouter",
      permission: "registry:write",
      path: "/models/{model}/versions/{version}/calibrate",
      tags,
      summary:
        "Register a new version of a two-tier complexity or trained router with the cheapest threshold meeting a success target on a suite (its tiers' runs of it)",
      request: { params: z.object({ model: Slug, version: SemverString }), body: jsonBody(CalibrateSchema) },
      responses: {
        201: jsonOk(z.object({ version: VersionSchema, calibration: Calibration }), "Registered"),
      },
    }),
    async (c) => {
      const { model, version } = c.req.valid("param");
      const out = await svc.calibrate(c.get("ctx"), model, version, c.req.valid("json"));
      return c.json({ ...out, calibration: out.calibration as unknown as Record<string, unknown> }, 201);
    },
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "trainRouter",
      permission: "registry:write",
      path: "/models/{model}/router/train",
      tags,
      summary:
        "Register a new trained router version: each case of a suite labelled by the cheapest tier that succeeded on it (the tiers' runs of it), optionally calibrated; or each request of the log by its feedback",
      request: { params: z.object({ model: Slug }), body: jsonBody(TrainSchema) },
      responses: {
        201: jsonOk(
          z.object({
            version: VersionSchema,
            training: z.record(z.string(), z.unknown()),
            calibration: Calibration.nullable(),
          }),
          "Registered",
        ),
      },
    }),
    async (c) => {
      const out = await svc.train(c.get("ctx"), c.req.valid("param").model, c.req.valid("json"));
      return c.json(
        {
          ...out,
          training: out.training as unknown as Record<string, unknown>,
          calibration: out.calibration as unknown as Record<string, unknown> | null,
        },
        201,
      );
    },
  );
  return app;
}
