import type { IncomingMessage } from "node:http";
import type { GatewayDeps } from "../modules/gateway/http/deps.ts";

/** A gateway's `readBody` without limits: the whole body, for tests that build GatewayDeps by hand. */
export async function readWholeBody(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A `translate` that passes bodies through: for gateway tests that never speak Anthropic's dialect. */
export const passThroughTranslate: GatewayDeps["translate"] = {
  fromAnthropicRequest: (b) => b as never,
  toAnthropicResponse: (r) => r,
  toAnthropicStream: async function* () {},
};
