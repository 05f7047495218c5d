import { apiRoute, createRouter, jsonBody, jsonOk } from "../../http/openapi.ts";
import {
  EngageSchema,
  KillSwitchIdParam,
  KillSwitchListSchema,
  KillSwitchQuerySchema,
  KillSwitchSchema,
  ReleaseSchema,
} from "./kill-switches.schemas.ts";
import type { KillSwitchesService } from "./kill-switches.service.ts";

const tags = ["kill-switches"];

export function killSwitchRoutes(svc: KillSwitchesService) {
  const app = createRouter();
  app.openapi(
    apiRoute({
      method: "get",
      operationId: "listKillSwitches",
      permission: "registry:read",
      path: "/kill-switches",
      tags,
      summary: "Kill switches, newest first: engaged ones and their history",
      request: { query: KillSwitchQuerySchema },
      responses: { 200: jsonOk(KillSwitchListSchema) },
    }),
    async (c) => c.json({ items: await svc.list(c.req.valid("query")) }, 200),
  );
  app.openapi(
    apiRoute({
      method: "post",
      operationId: "engageKillSwitch",
      permission: "killswitches:write",
      path: "/kill-switches",
      tags,
      summary:
        "Switch a version, or every version on a provider, off everywhere: the gateway falls back past it or refuses with 503; every replica follows within a second",
      request: { body: jsonBody(EngageSchema) },
      responses: { 201: jsonOk(KillSwitchSchema, "engaged") },
    }),
    async (c) => c.json(await svc.engage(c.get("ctx"), c.req.valid("json")), 201),
  );
  app.openapi(
    apiRoute({
      method: "delete",
      operationId: "releaseKillSwitch",
      permission: "killswitches:write",
      path: "/kill-switches/{id}",
      tags,
      summary: "Release a kill switch (its row and audit events stay): the version or provider serves again",
      request: { params: KillSwitchIdParam, body: jsonBody(ReleaseSchema) },
      responses: { 200: jsonOk(KillSwitchSchema, "released") },
    }),
    async (c) =>
      c.json(await svc.release(c.get("ctx"), c.req.valid("param").id, c.req.valid("json").reason), 200),
  );
  return app;
}
