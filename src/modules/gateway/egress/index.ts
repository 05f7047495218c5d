export { type AllowList, createAllowList, parseAllowEntry } from "./allow-list.ts";
export {
  createEgressGuard,
  type EgressGuard,
  type EgressGuardOptions,
  type Lookup,
  type UrlVerdict,
} from "./egress-guard.ts";
export {
  type AddressClass,
  BLOCKED_RANGES,
  classifyIp,
  METADATA_HOSTS,
  parseCidr,
  parseIp,
} from "./ip-ranges.ts";
