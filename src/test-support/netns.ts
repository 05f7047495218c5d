// Hosts made of Linux network namespaces, on this machine only: each gets a veth pair to the
// root namespace on its own /24 of a private subnet (host side .1, namespace side .2). Only
// names this module created are ever removed.
import { execFileSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { hermeticEnv } from "./serve-child.ts";

export interface NsHost {
  /** The namespace's name (`ip netns exec <ns> …`). */
  ns: string;
  /** The root namespace's end of the link: where services for this host listen. */
  gateway: string;
  /** The host's own address. */
  address: string;
  /** The veth in the root namespace; down cuts the host off. */
  link: string;
}

const ip = (...args: string[]) =>
  execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"], env: hermeticEnv({}) }).toString();

/** Why namespaces cannot be made here (not root, no `ip`, no netns support), or undefined. */
export function netnsSkip(): string | undefined {
  if (process.getuid?.() !== 0)
    return "network namespaces need root (ip netns add): run as root to exercise replicas as hosts";
  try {
    ip("-V");
  } catch {
    return "no `ip` command (iproute2): install it to exercise replicas as hosts";
  }
  const probe = `mgprobe${randomBytes(3).toString("hex")}`;
  try {
    ip("netns", "add", probe);
    ip("netns", "delete", probe);
  } catch (err) {
    return `cannot create a network namespace here: ${(err as Error).message.split("\n")[0]}`;
  }
  return undefined;
}

/** `n` hosts; `cleanup()` deletes exactly the namespaces and links made here. */
export function createNsHosts(n: number) {
  const tag = randomBytes(2).toString("hex");
  // A random 10.x/16, skipping any already routed here (another run, a real network).
  const routes = ip("-4", "route", "show");
  let net = "";
  for (let i = 0; i < 50 && !net; i++) {
    const b = randomInt(100, 250);
    if (!routes.includes(`10.${b}.`)) net = `10.${b}`;
  }
  if (!net) throw new Error("no free 10.x.0.0/16 for the test hosts");
  const hosts: NsHost[] = [];
  const made: { ns?: string; link?: string }[] = [];
  try {
    for (let i = 1; i <= n; i++) {
      const h: NsHost = {
        ns: `mg-${tag}-${i}`,
        gateway: `${net}.${i}.1`,
        address: `${net}.${i}.2`,
        link: `mgh${tag}${i}`,
      };
      const peer = `mgn${tag}${i}`;
      ip("netns", "add", h.ns);
      made.push({ ns: h.ns });
      ip("link", "add", h.link, "type", "veth", "peer", "name", peer);
      made.push({ link: h.link });
      ip("link", "set", peer, "netns", h.ns);
      ip("addr", "add", `${h.gateway}/24`, "dev", h.link);
      ip("link", "set", h.link, "up");
      ip("-n", h.ns, "addr", "add", `${h.address}/24`, "dev", peer);
      ip("-n", h.ns, "link", "set", peer, "up");
      ip("-n", h.ns, "link", "set", "lo", "up");
      hosts.push(h);
    }
  } catch (err) {
    cleanup();
    throw err;
  }
  function cleanup() {
    for (const m of made.reverse()) {
      try {
        // Deleting one end of a veth deletes both; deleting the namespace ends what it held.
        if (m.link) ip("link", "delete", m.link);
        if (m.ns) ip("netns", "delete", m.ns);
      } catch {}
    }
    made.length = 0;
  }
  return {
    hosts,
    prefix: (h: NsHost) => ["ip", "netns", "exec", h.ns],
    cut: (h: NsHost) => ip("link", "set", h.link, "down"),
    restore: (h: NsHost) => ip("link", "set", h.link, "up"),
    cleanup,
  };
}
