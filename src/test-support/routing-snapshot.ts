// Hand-built routing snapshots for the gateway's pure routing tests (resolve, listing).

import type {
  KillInfo,
  ModelRoute,
  RoutableVersion,
  RoutingSnapshot,
} from "../modules/gateway/routing/snapshot.ts";
import { DEFAULT_TIMEOUTS } from "../modules/gateway/routing/snapshot.ts";

export const SWITCH: KillInfo = {
  id: "ksw_1",
  scope: "version",
  target: "chat@1.2.0",
  reason: "leaks the system prompt",
  engagedBy: "alice",
  engagedAt: "2026-12-07T18:00:00.000Z",
};

/** A servable production version on the simulator; `killed` switches it off. */
export function routableVersion(
  model: string,
  v: string,
  killed: KillInfo | null = null,
  o: Partial<RoutableVersion> = {},
): RoutableVersion {
  return {
    id: `ver_${model}_${v}`,
    model,
    version: v,
    status: "production",
    provider: "simulator",
    providerModelId: "sim",
    endpoint: null,
    parameters: {},
    refusal: null,
    killed,
    price: { inputPer1kUsd: 0, outputPer1kUsd: 0 },
    ...o,
  };
}

/** A model whose production alias is its first version; pinning allowed. */
export function modelRoute(name: string, vs: RoutableVersion[], o: Partial<ModelRoute> = {}): ModelRoute {
  return {
    id: `mdl_${name}`,
    name,
    aliases: { production: vs[0]!.version },
    versions: new Map(vs.map((v) => [v.version, v])),
    byId: new Map(vs.map((v) => [v.id, v])),
    split: null,
    splitScope: null,
    shadow: null,
    fallback: [],
    allowPinning: true,
    timeouts: DEFAULT_TIMEOUTS,
    breaker: null,
    ...o,
  };
}

export const snapshotOf = (...models: ModelRoute[]): RoutingSnapshot => ({
  position: 1,
  models: new Map(models.map((m) => [m.name, m])),
});
