import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, test } from "node:test";
import { type Dispatcher, interceptors, request } from "undici";
import { UpstreamError } from "../../../providers/types.ts";
import { createEgressGuard, type EgressGuard, type EgressGuardOptions } from "./egress-guard.ts";

/** A loopback server that must never hear from the gateway: it counts connections and bytes. */
interface Canary {
  port: number;
  connections: number;
  bytes: number;
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port };
}

async function startCanary(): Promise<Canary> {
  const { server, port } = await listen((_req, res) => res.end("canary"));
  const canary: Canary = {
    port,
    connections: 0,
    bytes: 0,
    close: () => new Promise((r) => server.close(() => r())),
  };
  server.on("connection", (socket) => {
    canary.connections++;
    socket.on("data", (d: Buffer) => {
      canary.bytes += d.length;
    });
  });
  return canary;
}

type Outcome = { status: number; headers: Dispatcher.ResponseData["headers"] } | { error: unknown };

async function attempt(url: string, dispatcher: Dispatcher, extra: object = {}): Promise<Outcome> {
  try {
    const res = await request(url, { dispatcher, ...extra });
    await res.body.dump();
    return { status: res.statusCode, headers: res.headers };
  } catch (error) {
    return { error };
  }
}

function assertRefused(o: Outcome, reason: RegExp) {
  assert.ok("error" in o, `expected a refusal, got HTTP ${"status" in o ? o.status : "?"}`);
  assert.ok(o.error instanceof UpstreamError, `expected UpstreamError, got ${String(o.error)}`);
  assert.equal(o.error.kind, "refused");
  assert.match(o.error.message, reason);
}

describe("egress guard", () => {
  let canary: Canary;
  const guards: EgressGuard[] = [];
  const guard = (opts: EgressGuardOptions) => {
    const g = createEgressGuard(opts);
    guards.push(g);
    return g;
  };

  before(async () => {
    canary = await startCanary();
  });
  afterEach(async () => {
    // The property every case below must keep: the canary never saw a single byte.
    assert.equal(canary.connections, 0, "canary accepted a connection");
    assert.equal(canary.bytes, 0, "canary received bytes");
    await Promise.all(guards.splice(0).map((g) => g.dispatcher.close()));
  });
  after(() => canary.close());

  test("checkUrl: decimal, hex, octal, short and IPv6 spellings of loopback are all loopback", () => {
    const g = guard({ allowHosts: ["api.openai.com"] });
    for (const u of [
      "http://2130706433/",
      "http://0x7f000001/",
      "http://0177.0.0.1/",
      "http://127.1/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[0:0:0:0:0:ffff:7f00:1]/",
    ]) {
      const v = g.checkUrl(u);
      assert.ok(!v.ok, u);
      assert.match(v.reason, /is loopback( \(via IPv4-mapped IPv6\))? and not allow-listed/, u);
    }
    assert.equal(new URL("http://0x7f000001/").hostname, "127.0.0.1", "WHATWG URL normalises hex");
    assert.equal(new URL("http://2130706433/").hostname, "127.0.0.1", "WHATWG URL normalises decimal");
  });

  test("checkUrl: schemes, names, metadata, credentials", () => {
    const g = guard({ allowHosts: ["api.openai.com", "*.internal", "127.0.0.1:8000"] });
    const reason = (u: string) => {
      const v = g.checkUrl(u);
      return v.ok ? "ok" : v.reason;
    };
    assert.equal(reason("https://api.openai.com/v1/chat/completions"), "ok");
    assert.equal(reason("https://API.OpenAI.com./v1"), "ok");
    assert.equal(reason("http://127.0.0.1:8000/v1"), "ok");
    assert.equal(
      reason("http://2130706433:8000/v1"),
      "ok",
      "the same allow-listed address, spelled in decimal",
    );
    assert.match(reason("http://127.0.0.1:8001/"), /loopback and not allow-listed/);
    assert.match(reason("http://169.254.169.254/latest/meta-data"), /cloud metadata endpoint/);
    assert.match(reason("http://metadata.google.internal/"), /metadata service name/);
    assert.match(reason("http://0/"), /this network/);
    assert.match(reason("http://8.8.8.8/"), /not on the egress allow-list/);
    assert.match(reason("https://evil.com/"), /not on the egress allow-list/);
    assert.match(reason("https://api.openai.com.evil.com/"), /not on the egress allow-list/);
    assert.match(reason("https://api.openai.com@evil.com/"), /credentials/);
    assert.match(reason("ftp://api.openai.com/"), /scheme ftp:/);
    assert.match(reason("file:///etc/passwd"), /scheme file:/);
    assert.match(reason("not a url"), /not a valid URL/);
    assert.throws(
      () => g.assertUrl("http://10.0.0.1/"),
      (e) => e instanceof UpstreamError && e.kind === "refused",
    );
  });

  test("the cloud metadata address is refused at connect time", async () => {
    const g = guard({ allowHosts: ["*.internal"] });
    assertRefused(await attempt("http://169.254.169.254/latest/meta-data", g.dispatcher), /cloud metadata/);
    assertRefused(await attempt("http://metadata.google.internal/", g.dispatcher), /metadata service name/);
  });

  test("private addresses written in decimal, hex, octal or as mapped IPv6 never reach the canary", async () => {
    const g = guard({ allowHosts: ["api.openai.com"] });
    for (const host of ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]"]) {
      // Straight to the dispatcher, skipping checkUrl: the connector must hold on its own.
      assertRefused(await attempt(`http://${host}:${canary.port}/`, g.dispatcher), /loopback/);
    }
  });

  test("a name that resolves to a private address is refused, even when the name is allow-listed", async () => {
    const answers: Record<string, string[]> = {
      "evil.test": ["127.0.0.1"],
      "mixed.test": ["93.184.216.34", "127.0.0.1"],
      "mapped.test": ["::ffff:7f00:1"],
      "ula.test": ["fd00::1"],
      "garbage.test": ["localhost"],
    };
    const g = guard({
      allowHosts: Object.keys(answers),
      lookup: async (h) => answers[h] ?? [],
    });
    for (const name of Object.keys(answers)) {
      const o = await attempt(`http://${name}:${canary.port}/`, g.dispatcher);
      assertRefused(o, name === "garbage.test" ? /not an IP address/ : /resolves to .* not allow-listed/);
    }
  });

  test("an allow-listed name with public addresses passes; private ones only with an address entry", async () => {
    const answers: Record<string, string[]> = {
      "api.example.com": ["93.184.216.34", "2606:2800:220:1::1"],
      "vllm.internal": ["10.0.0.5"],
    };
    const lookup = async (h: string) => answers[h] ?? [];
    const g = guard({ allowHosts: ["*.example.com", "vllm.internal"], lookup });
    assert.deepEqual(await g.resolve("api.example.com", 443), answers["api.example.com"]);
    await assert.rejects(g.resolve("vllm.internal", 8000), /10\.0\.0\.5 is private \(RFC 1918\)/);
    await assert.rejects(
      g.resolve("nowhere.example.com", 443),
      (e) => e instanceof UpstreamError && e.kind === "connect",
    );
    const g2 = guard({ allowHosts: ["vllm.internal", "10.0.0.0/24"], lookup });
    assert.deepEqual(await g2.resolve("vllm.internal", 8000), ["10.0.0.5"]);
  });

  test("the vetted address is dialled and the Host header keeps the name", async () => {
    const { server, port } = await listen((req, res) => res.end(req.headers.host));
    try {
      const g = guard({ allowHosts: ["local.test", `127.0.0.1:${port}`], lookup: async () => ["127.0.0.1"] });
      const res = await request(`http://local.test:${port}/v1/models`, { dispatcher: g.dispatcher });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), `local.test:${port}`);
    } finally {
      server.close();
    }
  });

  test("several vetted addresses are tried in order", async () => {
    const { server, port } = await listen((_req, res) => res.end("up"));
    try {
      const g = guard({
        allowHosts: ["multi.test", "127.0.0.2", `127.0.0.1:${port}`],
        lookup: async () => ["127.0.0.2", "127.0.0.1"], // nothing listens on 127.0.0.2
        connectTimeoutMs: 1_000,
      });
      const res = await request(`http://multi.test:${port}/`, { dispatcher: g.dispatcher });
      assert.equal(await res.body.text(), "up");
    } finally {
      server.close();
    }
  });

  test("DNS rebinding: one lookup per connection, and the connection goes where that lookup pointed", async () => {
    let lookups = 0;
    // First answer: an allow-listed address with nothing listening. Every later answer: the canary.
    const g = guard({
      allowHosts: ["rebind.test", "127.0.0.2"],
      lookup: async () => (++lookups === 1 ? ["127.0.0.2"] : ["127.0.0.1"]),
      connectTimeoutMs: 1_000,
    });
    const first = await attempt(`http://rebind.test:${canary.port}/`, g.dispatcher);
    assert.ok(
      "error" in first && !(first.error instanceof UpstreamError),
      "dialled 127.0.0.2 and failed there",
    );
    assert.match(
      String((first.error as { code?: string }).code),
      /ECONNREFUSED|ETIMEDOUT|ENETUNREACH|UND_ERR_CONNECT_TIMEOUT/,
    );
    assert.equal(lookups, 1);
    assertRefused(
      await attempt(`http://rebind.test:${canary.port}/`, g.dispatcher),
      /127\.0\.0\.1 is loopback/,
    );
    assert.equal(lookups, 2);
  });

  test("redirects are not followed: a 302 to loopback comes back as a plain 302", async () => {
    const upstream = await listen((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${canary.port}/latest/meta-data` }).end();
    });
    try {
      // Loopback is allow-listed wholesale here, so only not-following keeps the canary quiet.
      const g = guard({ allowHosts: ["127.0.0.1"] });
      const o = await attempt(`http://127.0.0.1:${upstream.port}/v1/chat/completions`, g.dispatcher);
      assert.ok("status" in o);
      assert.equal(o.status, 302);
      assert.equal(o.headers.location, `http://127.0.0.1:${canary.port}/latest/meta-data`);
      // undici 7 dropped the per-request maxRedirections option: asking for it is an error, not a follow.
      const asked = await attempt(`http://127.0.0.1:${upstream.port}/`, g.dispatcher, { maxRedirections: 5 });
      assert.ok("error" in asked);
      assert.equal((asked.error as { code?: string }).code, "UND_ERR_INVALID_ARG");

      // Even a caller who composes a redirect interceptor gets each hop vetted by the connector.
      const strict = guard({ allowHosts: [`127.0.0.1:${upstream.port}`] });
      const following = strict.dispatcher.compose(interceptors.redirect({ maxRedirections: 3 }));
      assertRefused(await attempt(`http://127.0.0.1:${upstream.port}/`, following), /loopback/);
    } finally {
      upstream.server.close();
    }
  });
});
