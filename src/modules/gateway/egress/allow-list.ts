import { type Cidr, cidrContains, type IpAddress, parseCidr, parseIp, unmapIpv4 } from "./ip-ranges.ts";

/**
 * The deployment-wide list of upstreams the gateway may call. Entries:
 *   api.openai.com            one host name, any port
 *   *.openai.azure.com        any subdomain (at any depth), not the apex
 *   127.0.0.1:8000            an address, one port (e.g. a local vLLM)
 *   [::1]:8000, ::1           IPv6, with or without a port
 *   10.20.0.0/16, fd00::/8    a network, any port
 * Address entries both allow a literal-IP URL and lift the private-range ban for
 * the addresses they cover; a name entry never does the latter, so allowing
 * `vllm.internal` that resolves to 10.0.0.5 also needs `10.0.0.5` (or its network).
 */
export interface AllowList {
  /** A host name (not an IP literal) is allowed on this port. */
  allowsName(name: string, port: number): boolean;
  /** Same, but only an exact (non-wildcard) entry counts: used for metadata names. */
  allowsNameExactly(name: string, port: number): boolean;
  /** An address is covered by an address/network entry for this port. */
  allowsAddress(ip: IpAddress, port: number): boolean;
}

type Entry =
  | { kind: "name"; name: string; wildcard: boolean; port: number | undefined }
  | { kind: "net"; cidr: Cidr; port: number | undefined };

const NAME = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

export function normaliseHostName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

function parsePort(text: string, entry: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535)
    throw new Error(`allow-list entry "${entry}": bad port`);
  return port;
}

export function parseAllowEntry(raw: string): Entry {
  const entry = raw.trim();
  if (entry.includes("/")) {
    const c = parseCidr(entry);
    if (!c) throw new Error(`allow-list entry "${entry}": not a valid CIDR`);
    return { kind: "net", cidr: c, port: undefined };
  }
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    const ip = parseIp(bracketed[1]!);
    if (ip?.family !== 6) throw new Error(`allow-list entry "${entry}": not a valid IPv6 address`);
    return {
      kind: "net",
      cidr: { ip, prefix: 128 },
      port: bracketed[2] ? parsePort(bracketed[2], entry) : undefined,
    };
  }
  const bare = parseIp(entry);
  if (bare) return { kind: "net", cidr: { ip: bare, prefix: bare.family === 4 ? 32 : 128 }, port: undefined };
  const withPort = /^(.+):(\d+)$/.exec(entry);
  const host = withPort ? withPort[1]! : entry;
  const port = withPort ? parsePort(withPort[2]!, entry) : undefined;
  const ip = parseIp(host);
  if (ip) return { kind: "net", cidr: { ip, prefix: 32 }, port };
  const name = normaliseHostName(host);
  if (!NAME.test(name)) throw new Error(`allow-list entry "${entry}": not a host name, address or CIDR`);
  const wildcard = name.startsWith("*.");
  return { kind: "name", name: wildcard ? name.slice(1) : name, wildcard, port };
}

export function createAllowList(entries: readonly string[]): AllowList {
  const parsed = entries.filter((e) => e.trim() !== "").map(parseAllowEntry);
  const names = parsed.filter((e) => e.kind === "name");
  const nets = parsed.filter((e) => e.kind === "net");
  const portOk = (e: Entry, port: number) => e.port === undefined || e.port === port;

  const coveredBy = (ip: IpAddress, port: number) =>
    nets.some((e) => portOk(e, port) && cidrContains(e.cidr, ip));

  return {
    allowsName(name, port) {
      const n = normaliseHostName(name);
      return names.some((e) => portOk(e, port) && (e.wildcard ? n.endsWith(e.name) : n === e.name));
    },
    allowsNameExactly(name, port) {
      const n = normaliseHostName(name);
      return names.some((e) => portOk(e, port) && !e.wildcard && n === e.name);
    },
    allowsAddress(ip, port) {
      // ::ffff:127.0.0.1 is 127.0.0.1 on the wire: an entry for either covers both.
      const inner = unmapIpv4(ip);
      return coveredBy(ip, port) || (inner !== null && coveredBy(inner, port));
    },
  };
}
