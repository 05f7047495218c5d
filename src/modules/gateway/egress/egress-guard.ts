import dns from "node:dns";
import { Agent, buildConnector } from "undici";
import { UpstreamError } from "../../../providers/types.ts";
import { createAllowList, normaliseHostName } from "./allow-list.ts";
import { classifyIp, type IpAddress, METADATA_HOSTS, parseIp } from "./ip-ranges.ts";

/**
 * Server-side request forgery defence for every call the gateway makes to a model
 * provider. Two layers:
 *  - `checkUrl`: a synchronous pre-flight on the URL (scheme, host on the allow-list,
 *    literal IPs in blocked ranges) so adapters fail fast with a readable reason;
 *  - `dispatcher`: an undici Agent whose connector re-checks the host, resolves the name
 *    itself, vets EVERY address returned and then dials the vetted IP. No second DNS
 *    lookup happens after the check, so a rebinding answer cannot slip in between.
 * The dispatcher never follows redirects (undici 7 has no redirect handling unless a
 * redirect interceptor is composed in; the tests pin that), so a 3xx reaches the adapter
 * as a plain response.
 */

/** Resolves a host name to its addresses (IPv4 and IPv6 text). */
export type Lookup = (hostname: string) => Promise<string[]>;

export interface EgressGuardOptions {
  /** Host names, `*.wildcards`, addresses and CIDRs (see allow-list.ts). */
  allowHosts: readonly string[];
  /** Injectable for tests; default: the system resolver, all addresses. */
  lookup?: Lookup;
  lookupTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Any public host may be contacted, not only allow-listed ones (webhook receivers): the
   * blocked ranges (loopback, private, link-local, metadata...) stay refused unless allow-listed,
   * checked on every address a name resolves to at connect time.
   */
  allowPublic?: boolean;
}

export type UrlVerdict =
  | { ok: true; url: URL; hostname: string; port: number }
  | { ok: false; reason: string };

export interface EgressGuard {
  checkUrl(url: string | URL): UrlVerdict;
  /** `checkUrl` for callers that want the UpstreamError("refused") thrown. */
  assertUrl(url: string | URL): URL;
  /** What the dispatcher does before dialling: the vetted addresses, dialled in this order. */
  resolve(hostname: string, port: number): Promise<string[]>;
  readonly dispatcher: Agent;
}

const systemLookup: Lookup = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

const refused = (reason: string) => new UpstreamError("refused", `egress refused: ${reason}`);

function defaultPort(protocol: string): number {
  return protocol === "https:" ? 443 : 80;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UpstreamError("timeout", `${what} timed out after ${ms}ms`)), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export function createEgressGuard(opts: EgressGuardOptions): EgressGuard {
  const allow = createAllowList(opts.allowHosts);
  const lookup = opts.lookup ?? systemLookup;
  const lookupTimeoutMs = opts.lookupTimeoutMs ?? 5_000;

  /** Why an address may not be dialled on this port, or null if it may. */
  function addressProblem(ip: IpAddress, text: string, port: number): string | null {
    if (allow.allowsAddress(ip, port)) return null;
    const c = classifyIp(ip);
    return c.blocked ? `${text} is ${c.reason} and not allow-listed` : null;
  }

  /** The static part, shared by checkUrl and the connector: null if the host may be contacted. */
  function hostProblem(rawHost: string, port: number): string | null {
    const host = rawHost.startsWith("[") && rawHost.endsWith("]") ? rawHost.slice(1, -1) : rawHost;
    const ip = parseIp(host);
    if (ip) {
      if (allow.allowsAddress(ip, port)) return null;
      const blocked = addressProblem(ip, host, port);
      if (blocked || opts.allowPublic) return blocked;
      return `${host}:${port} is not on the egress allow-list`;
    }
    const name = normaliseHostName(host);
    if (METADATA_HOSTS.has(name) && !allow.allowsNameExactly(name, port)) {
      return `${name} is a cloud metadata service name and not allow-listed`;
    }
    if (!opts.allowPublic && !allow.allowsName(name, port))
      return `${name}:${port} is not on the egress allow-list`;
    return null;
  }

  function checkUrl(input: string | URL): UrlVerdict {
    let url: URL;
    try {
      // The WHATWG parser normalises 2130706433, 0x7f000001, 0177.0.0.1 and 127.1 to 127.0.0.1.
      url = new URL(String(input));
    } catch {
      return { ok: false, reason: "not a valid URL" };
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return { ok: false, reason: `scheme ${url.protocol} is not allowed (http and https only)` };
    }
    if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed" };
    const port = url.port ? Number(url.port) : defaultPort(url.protocol);
    const problem = hostProblem(url.hostname, port);
    return problem ? { ok: false, reason: problem } : { ok: true, url, hostname: url.hostname, port };
  }

  async function resolve(hostname: string, port: number): Promise<string[]> {
    const problem = hostProblem(hostname, port);
    if (problem) throw refused(problem);
    const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
    if (parseIp(bare)) return [bare];
    let addresses: string[];
    try {
      addresses = await withTimeout(lookup(bare), lookupTimeoutMs, `DNS lookup of ${bare}`);
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError("connect", `DNS lookup of ${bare} failed: ${(err as Error).message}`);
    }
    if (addresses.length === 0) throw new UpstreamError("connect", `${bare} did not resolve`);
    // Every address, not just the first: a resolver may rotate, and happy-eyeballs may pick any.
    for (const a of addresses) {
      const ip = parseIp(a);
      if (!ip) throw refused(`${bare} resolved to ${JSON.stringify(a)}, which is not an IP address`);
      const p = addressProblem(ip, a, port);
      if (p) throw refused(`${bare} resolves to ${p}`);
    }
    return addresses;
  }

  const base = buildConnector({ timeout: opts.connectTimeoutMs ?? 10_000 });
  const connect: buildConnector.connector = (o, callback) => {
    if (o.protocol !== "http:" && o.protocol !== "https:") {
      callback(refused(`scheme ${o.protocol} is not allowed`), null);
      return;
    }
    if (o.socketPath) {
      callback(refused("unix sockets are not allowed"), null);
      return;
    }
    const port = o.port ? Number(o.port) : defaultPort(o.protocol);
    resolve(o.hostname, port).then(
      (addresses) => {
        // Dial the vetted IPs in order, never the name: `host` stays the name, so TLS SNI and
        // the certificate check use it, while no second DNS answer can be substituted.
        const dial = (i: number) =>
          base({ ...o, hostname: addresses[i]! }, (...result) => {
            if (result[0] && i + 1 < addresses.length) dial(i + 1);
            else callback(...result);
          });
        dial(0);
      },
      (err: Error) => callback(err, null),
    );
  };

  const dispatcher = new Agent({ connect });

  return {
    checkUrl,
    assertUrl(input) {
      const v = checkUrl(input);
      if (!v.ok) throw refused(v.reason);
      return v.url;
    },
    resolve,
    dispatcher,
  };
}
