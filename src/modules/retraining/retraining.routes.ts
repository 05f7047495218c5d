import { z } from "@hono/zod-openapi";
import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import {
  DatasetQuerySchema,
  DismissSchema,
  EvaluatedSchema,
  EvaluateSchema,
  NoteSchema,
  OpenedSchema,
  OpenSchema,
  StartTrainingSchema,
  TaskDetailSchema,
  TaskPageSchema,
  TaskParam,
  TaskQuerySchema,
  TaskSchema,
} from "./retraining.schemas.ts";
import type { RetrainingService } from "./retraining.service.ts";

const tags = ["retraining"];

/** Pulls lines from the generator only as fast as the client reads them. */
function toStream(lines: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(enc.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}

export function retrainingRoutes(svc: RetrainingService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listRetrainingTasks",
      permission: "registry:read",
      path: "/retraining",
      tags,
      summary:
        "Retraining tasks, newest first, by model and state (`active`: every state before closed and dismissed)",
      request: { query: TaskQuerySchema },
      responses: { 200: jsonOk(TaskPageSchema) },
    }),
    async (c) => c.json(await svc.list(c.req.valid("query")), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "reportBreach",
      permission: "retraining:write",
      path: "/retraining",
      tags,
      summary:
        "Report a breach: opens a retraining task for the model, or adds the evidence to the one open (200 then)",
      request: { body: jsonBody(OpenSchema) },
      responses: { 200: jsonOk(OpenedSchema, "Evidence added"), 201: jsonOk(OpenedSchema, "Opened") },
    }),
    async (c) => {
      const out = await svc.open(c.get("ctx"), c.req.valid("json"));
      return out.opened ? c.json(out, 201) : c.json(out, 200);
    },
  );
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "getRetrainingTask",
      permission: "registry:read",
      path: "/retraining/{task}",
      tags,
      summary: "A retraining task with its latest evidence and its history",
      request: { params: TaskParam },
      responses: { 200: jsonOk(TaskDetailSchema) },
    }),
    async (c) => c.json(await svc.get(c.req.valid("param").task), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "startRetraining",
      permission: "retraining:write",
      path: "/retraining/{task}/start-training",
      tags,
      summary: "open → training; may pin the suite candidate and production will be compared on",
      request: { params: TaskParam, body: jsonBody(StartTrainingSchema) },
      responses: { 200: jsonOk(TaskSchema) },
    }),
    async (c) =>
      c.json(await svc.startTraining(c.get("ctx"), c.req.valid("param").task, c.req.valid("json")), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "evaluateRetraining",
      permission: "retraining:write",
      path: "/retraining/{task}/evaluate",
      tags,
      summary:
        "candidate_registered → evaluated when the candidate's run beats production's on the task's metric (paired test); else the verdict says why and the task stays",
      request: { params: TaskParam, body: jsonBody(EvaluateSchema) },
      responses: { 200: jsonOk(EvaluatedSchema) },
    }),
    async (c) =>
      c.json(await svc.evaluate(c.get("ctx"), c.req.valid("param").task, c.req.valid("json")), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "markRetrainingApproved",
      permission: "retraining:write",
      path: "/retraining/{task}/mark-approved",
      tags,
      summary:
        "evaluated → approved, when the candidate has an approval in force (an approval after the evaluation moves the task by itself)",
      request: { params: TaskParam },
      responses: { 200: jsonOk(TaskSchema) },
    }),
    async (c) => c.json(await svc.markApproved(c.get("ctx"), c.req.valid("param").task), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "markRetrainingRolledOut",
      permission: "retraining:write",
      path: "/retraining/{task}/mark-rolled-out",
      tags,
      summary:
        "approved → rolled_out, when the candidate is the production version (a promotion moves the task by itself)",
      request: { params: TaskParam },
      responses: { 200: jsonOk(TaskSchema) },
    }),
    async (c) => c.json(await svc.markRolledOut(c.get("ctx"), c.req.valid("param").task), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "closeRetrainingTask",
      permission: "retraining:write",
      path: "/retraining/{task}/close",
      tags,
      summary: "rolled_out → closed: the retrained version holds up in production",
      request: { params: TaskParam, body: jsonBody(NoteSchema) },
      responses: { 200: jsonOk(TaskSchema) },
    }),
    async (c) =>
      c.json(await svc.close(c.get("ctx"), c.req.valid("param").task, c.req.valid("json").note), 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "dismissRetrainingTask",
      permission: "retraining:dismiss",
      path: "/retraining/{task}/dismiss",
      tags,
      summary:
        "Any state before closed → dismissed, with a written justification: the breach needs no retraining",
      request: { params: TaskParam, body: jsonBody(DismissSchema) },
      responses: { 200: jsonOk(TaskSchema) },
    }),
    async (c) =>
      c.json(
        await svc.dismiss(c.get("ctx"), c.req.valid("param").task, c.req.valid("json").justification),
        200,
      ),
  );
  // retraining:write, not registry:read: the slice holds what users sent (request bodies).
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "exportRetrainingDataset",
      permission: "retraining:write",
      path: "/retraining/{task}/dataset",
      tags,
      summary:
        "The failing slice of the evidence windows (request log joined with feedback), streamed: OpenAI fine-tuning JSONL or a modelgov suite",
      request: { params: TaskParam, query: DatasetQuerySchema },
      responses: {
        200: {
          description:
            "JSON Lines (openai-jsonl) or one JSON suite document; x-modelgov-slice-* headers count the failing requests, those exported and those without a kept body",
          content: {
            "application/jsonl": { schema: z.string() },
            "application/json": { schema: z.string() },
          },
        },
      },
    }),
    async (c) => {
      const d = await svc.dataset(c.req.valid("param").task, c.req.valid("query"));
      const exportable = c.req.valid("query").format === "suite" ? d.counts.corrected : d.counts.withBody;
      // The route typing reads any application/*json* content as one JSON document; this body
      // is streamed text, so the typed-response check does not apply.
      return c.body(toStream(d.lines), 200, {
        "content-type": `${d.contentType}; charset=utf-8`,
        "content-disposition": `attachment; filename="${d.filename}"`,
        "x-modelgov-slice-failing": String(d.counts.failing),
        "x-modelgov-slice-exportable": String(exportable),
        "x-modelgov-slice-without-body": String(d.counts.withoutBody),
        "x-modelgov-slice-corrected": String(d.counts.corrected),
      }) as never;
    },
  );
  return app;
}
