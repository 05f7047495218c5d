/** Who is acting and under which request: passed to every state-changing use case. */
export interface RequestContext {
  /** The token's name (a person or a service); recorded as the audit actor. */
  actor: string;
  requestId: string;
  /** Roles of the caller's token: admin, viewer, agent, engineering, compliance, ... */
  roles?: string[];
  /** The id of the caller's token, when the call came through the API. */
  tokenId?: string;
}

export const systemContext = (actor = "system", requestId = "internal"): RequestContext => ({
  actor,
  requestId,
  roles: ["admin"],
});

export type AppEnv = { Variables: { ctx: RequestContext } };
