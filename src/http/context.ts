/** Who is acting and under which request: passed to every state-changing use case. */
export interface RequestContext {
  actor: string;
  requestId: string;
}

export const systemContext = (actor = "system", requestId = "internal"): RequestContext => ({
  actor,
  requestId,
});

export type AppEnv = { Variables: { ctx: RequestContext } };
