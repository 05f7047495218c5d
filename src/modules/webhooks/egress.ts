// Webhook deliveries go through the same connect-time guard as the gateway's upstream calls,
// with their own allow-list: any public receiver may be used, while loopback, private,
// link-local and cloud-metadata addresses are refused (before any packet is sent) unless the
// operator lists them in MODELGOV_WEBHOOK_ALLOW_HOSTS. A refused delivery's error says only
// that egress was refused, so the deliveries endpoint cannot be used to scan internal ports.

import { fetch as undiciFetch } from "undici";
import { createEgressGuard, type Lookup } from "../gateway/index.ts";

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface WebhookEgress {
  /** Why a subscription URL may not be used, or null (scheme, credentials, literal blocked address). */
  checkUrl(url: string): string | null;
  /** fetch that dials only vetted addresses. */
  fetch: Fetch;
}

export function createWebhookEgress(opts: { allowHosts: readonly string[]; lookup?: Lookup }): WebhookEgress {
  const guard = createEgressGuard({ allowHosts: opts.allowHosts, allowPublic: true, lookup: opts.lookup });
  return {
    checkUrl(url) {
      const v = guard.checkUrl(url);
      return v.ok ? null : v.reason;
    },
    fetch: (input, init) =>
      undiciFetch(input, {
        ...(init as object),
        dispatcher: guard.dispatcher,
      } as never) as unknown as Promise<Response>,
  };
}
