import net from "node:net";

/**
 * IP parsing and the table of address ranges the gateway must never call unless the
 * deployment allow-lists them. Hand-rolled (rather than net.BlockList) so that the
 * embedded-IPv4 rules below are explicit and each refusal carries a readable reason.
 */

export interface IpAddress {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: number[];
}

export interface Cidr {
  ip: IpAddress;
  prefix: number;
}

function parseV4(s: string): number[] | null {
  if (!net.isIPv4(s)) return null; // rejects octal/hex/short forms: those only reach us through URL, which normalises them
  return s.split(".").map(Number);
}

function parseV6(s: string): number[] | null {
  const zone = s.indexOf("%");
  const text = zone >= 0 ? s.slice(0, zone) : s;
  if (!net.isIPv6(text)) return null;
  let body = text;
  const lastColon = body.lastIndexOf(":");
  const tail = body.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseV4(tail);
    if (!v4) return null;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    body = `${body.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const [head = "", rest] = body.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const h = groups(head);
  const t = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8) return null;
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Parses a textual IPv4 or IPv6 address (brackets and zone ids tolerated); null if it is not one. */
export function parseIp(text: string): IpAddress | null {
  const s = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const v4 = parseV4(s);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseV6(s);
  return v6 ? { family: 6, bytes: v6 } : null;
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const ip = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ip, prefix: max };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return null;
  return { ip, prefix: Number(p) };
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.ip.family !== ip.family) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((cidr.ip.bytes[i]! & mask) !== (ip.bytes[i]! & mask)) return false;
  }
  return true;
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return ip.bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i]! << 8) | ip.bytes[i + 1]!).toString(16));
  return groups.join(":");
}

function cidr(text: string): Cidr {
  const c = parseCidr(text);
  if (!c) throw new Error(`bad built-in range ${text}`);
  return c;
}

/** IPv6 prefixes that carry an IPv4 address: the IPv4 is checked as if it were dialled directly. */
const EMBEDDING: { range: Cidr; name: string; at: number }[] = [
  { range: cidr("::ffff:0:0/96"), name: "IPv4-mapped", at: 12 },
  { range: cidr("64:ff9b::/96"), name: "NAT64", at: 12 },
  { range: cidr("2002::/16"), name: "6to4", at: 2 },
];

/** First match wins, so specific reasons (metadata) come before their enclosing range. */
export const BLOCKED_RANGES: readonly { range: string; reason: string }[] = [
  { range: "169.254.169.254/32", reason: "cloud metadata endpoint (AWS/GCP/Azure/OCI)" },
  { range: "168.63.129.16/32", reason: "Azure host endpoint (WireServer)" },
  { range: "100.100.100.200/32", reason: "cloud metadata endpoint (Alibaba)" },
  { range: "0.0.0.0/8", reason: "'this network' (0/8)" },
  { range: "10.0.0.0/8", reason: "private (RFC 1918)" },
  { range: "100.64.0.0/10", reason: "carrier-grade NAT (RFC 6598)" },
  { range: "127.0.0.0/8", reason: "loopback" },
  { range: "169.254.0.0/16", reason: "link-local" },
  { range: "172.16.0.0/12", reason: "private (RFC 1918)" },
  { range: "192.0.0.0/24", reason: "IETF protocol assignments" },
  { range: "192.0.2.0/24", reason: "documentation (TEST-NET-1)" },
  { range: "192.88.99.0/24", reason: "6to4 relay anycast" },
  { range: "192.168.0.0/16", reason: "private (RFC 1918)" },
  { range: "198.18.0.0/15", reason: "benchmarking" },
  { range: "198.51.100.0/24", reason: "documentation (TEST-NET-2)" },
  { range: "203.0.113.0/24", reason: "documentation (TEST-NET-3)" },
  { range: "224.0.0.0/4", reason: "multicast" },
  { range: "255.255.255.255/32", reason: "broadcast" },
  { range: "240.0.0.0/4", reason: "reserved (240/4)" },
  { range: "fd00:ec2::254/128", reason: "cloud metadata endpoint (AWS IPv6)" },
  { range: "::/128", reason: "unspecified" },
  { range: "::1/128", reason: "loopback" },
  { range: "::/96", reason: "IPv4-compatible (deprecated)" },
  { range: "64:ff9b:1::/48", reason: "NAT64 local use" },
  { range: "100::/64", reason: "discard-only" },
  { range: "2001::/32", reason: "Teredo tunnelling" },
  { range: "2001:db8::/32", reason: "documentation" },
  { range: "fc00::/7", reason: "unique local (ULA)" },
  { range: "fe80::/10", reason: "link-local" },
  { range: "fec0::/10", reason: "site-local (deprecated)" },
  { range: "ff00::/8", reason: "multicast" },
];

const BLOCKED = BLOCKED_RANGES.map((b) => ({ range: cidr(b.range), reason: b.reason }));

/** The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), if any. */
export function embeddedIpv4(ip: IpAddress): IpAddress | null {
  if (ip.family !== 6) return null;
  for (const e of EMBEDDING) {
    if (cidrContains(e.range, ip)) return { family: 4, bytes: ip.bytes.slice(e.at, e.at + 4) };
  }
  return null;
}

/** The IPv4 address behind an IPv4-mapped IPv6 address (the same host on the wire), if it is one. */
export function unmapIpv4(ip: IpAddress): IpAddress | null {
  const mapped = EMBEDDING[0]!;
  return cidrContains(mapped.range, ip) ? { family: 4, bytes: ip.bytes.slice(12) } : null;
}

export type AddressClass = { blocked: false } | { blocked: true; reason: string };

/** Whether an address lies in a range the gateway refuses by default, and why. */
export function classifyIp(ip: IpAddress): AddressClass {
  const inner = embeddedIpv4(ip);
  if (inner) {
    const c = classifyIp(inner);
    const via = EMBEDDING.find((e) => cidrContains(e.range, ip))!.name;
    return c.blocked ? { blocked: true, reason: `${c.reason} (via ${via} IPv6)` } : c;
  }
  for (const b of BLOCKED) if (cidrContains(b.range, ip)) return { blocked: true, reason: b.reason };
  return { blocked: false };
}

/** Host names of instance-metadata services; refused unless allow-listed by exact name. */
export const METADATA_HOSTS: ReadonlySet<string> = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "metadata.azure.internal",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.tencentyun.com",
]);
