import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createAllowList, parseAllowEntry } from "./allow-list.ts";
import { cidrContains, classifyIp, formatIp, type IpAddress, parseCidr, parseIp } from "./ip-ranges.ts";

const ip = (s: string): IpAddress => {
  const p = parseIp(s);
  assert.ok(p, `parseIp(${s})`);
  return p;
};
const reasonOf = (s: string) => {
  const c = classifyIp(ip(s));
  return c.blocked ? c.reason : null;
};

describe("parseIp", () => {
  test("IPv4 dotted quads only; the URL parser does the odd forms", () => {
    assert.deepEqual(ip("127.0.0.1").bytes, [127, 0, 0, 1]);
    for (const odd of ["0177.0.0.1", "0x7f000001", "2130706433", "127.1", "1.2.3.256", "", "a.b.c.d"]) {
      assert.equal(parseIp(odd), null, odd);
    }
  });

  test("IPv6 compressed, bracketed, with zone id or embedded IPv4", () => {
    assert.equal(formatIp(ip("::1")), "0:0:0:0:0:0:0:1");
    assert.equal(formatIp(ip("[fe80::1%eth0]")), "fe80:0:0:0:0:0:0:1");
    assert.equal(formatIp(ip("::ffff:127.0.0.1")), "0:0:0:0:0:ffff:7f00:1");
    assert.equal(formatIp(ip("2001:db8::")), "2001:db8:0:0:0:0:0:0");
    assert.equal(formatIp(ip("1:2:3:4:5:6:7:8")), "1:2:3:4:5:6:7:8");
    assert.equal(parseIp("1:2:3:4:5:6:7:8:9"), null);
    assert.equal(parseIp(":::1"), null);
  });
});

describe("parseCidr / cidrContains", () => {
  test("boundaries of 172.16.0.0/12 and fc00::/7", () => {
    const c = parseCidr("172.16.0.0/12")!;
    assert.ok(cidrContains(c, ip("172.16.0.0")));
    assert.ok(cidrContains(c, ip("172.31.255.255")));
    assert.ok(!cidrContains(c, ip("172.32.0.0")));
    assert.ok(!cidrContains(c, ip("172.15.255.255")));
    const u = parseCidr("fc00::/7")!;
    assert.ok(cidrContains(u, ip("fdff:ffff::1")));
    assert.ok(!cidrContains(u, ip("fe00::1")));
    assert.ok(!cidrContains(u, ip("10.0.0.1")), "families never match");
    assert.ok(cidrContains(parseCidr("0.0.0.0/0")!, ip("8.8.8.8")));
  });

  test("rejects malformed networks", () => {
    for (const bad of ["10.0.0.0/33", "fd00::/129", "1.2.3/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8"]) {
      assert.equal(parseCidr(bad), null, bad);
    }
  });
});

describe("classifyIp", () => {
  const blocked: [string, RegExp][] = [
    ["169.254.169.254", /cloud metadata/],
    ["::ffff:169.254.169.254", /cloud metadata.*IPv4-mapped/],
    ["fd00:ec2::254", /cloud metadata endpoint \(AWS IPv6\)/],
    ["168.63.129.16", /Azure/],
    ["100.100.100.200", /Alibaba/],
    ["169.254.1.1", /^link-local$/],
    ["10.0.0.1", /RFC 1918/],
    ["10.255.255.255", /RFC 1918/],
    ["172.16.0.1", /RFC 1918/],
    ["172.31.255.255", /RFC 1918/],
    ["192.168.1.1", /RFC 1918/],
    ["127.0.0.1", /^loopback$/],
    ["127.255.255.254", /^loopback$/],
    ["0.0.0.0", /this network/],
    ["100.64.0.1", /carrier-grade NAT/],
    ["100.127.255.255", /carrier-grade NAT/],
    ["224.0.0.1", /multicast/],
    ["239.255.255.250", /multicast/],
    ["255.255.255.255", /^broadcast$/],
    ["240.0.0.1", /reserved/],
    ["198.18.0.1", /benchmarking/],
    ["::1", /^loopback$/],
    ["::", /unspecified/],
    ["fd00::1", /unique local/],
    ["fc00::1", /unique local/],
    ["fe80::1", /link-local/],
    ["fe80::1%eth0", /link-local/],
    ["febf::1", /link-local/],
    ["fec0::1", /site-local/],
    ["ff02::1", /multicast/],
    ["::ffff:10.0.0.1", /RFC 1918.*IPv4-mapped/],
    ["::ffff:a00:1", /RFC 1918.*IPv4-mapped/],
    ["::ffff:7f00:1", /loopback.*IPv4-mapped/],
    ["64:ff9b::a9fe:a9fe", /cloud metadata.*NAT64/],
    ["2002:7f00:1::", /loopback.*6to4/],
    ["2001::1", /Teredo/],
    ["::7f00:1", /IPv4-compatible/],
  ];
  for (const [addr, reason] of blocked) {
    test(`${addr} is refused (${reason.source})`, () => {
      const r = reasonOf(addr);
      assert.ok(r, `${addr} should be blocked`);
      assert.match(r, reason);
    });
  }

  test("public addresses, including just outside the private ranges, pass", () => {
    for (const a of [
      "8.8.8.8",
      "1.1.1.1",
      "93.184.216.34",
      "172.15.255.255",
      "172.32.0.0",
      "100.63.255.255",
      "100.128.0.0",
      "192.169.0.1",
      "11.0.0.1",
      "169.255.0.1",
      "223.255.255.255",
      "2606:4700:4700::1111",
      "::ffff:8.8.8.8",
      "64:ff9b::808:808",
      "2002:808:808::1",
    ]) {
      assert.equal(reasonOf(a), null, a);
    }
  });
});

describe("allow-list", () => {
  test("names, wildcards, ports, addresses and networks", () => {
    const a = createAllowList([
      "api.openai.com",
      "*.openai.azure.com",
      "vllm.local:8000",
      "127.0.0.1:8000",
      "[::1]:8001",
      "10.20.0.0/16",
    ]);
    assert.ok(a.allowsName("API.OpenAI.com.", 443));
    assert.ok(!a.allowsName("api.openai.com.evil.com", 443));
    assert.ok(!a.allowsName("evilapi.openai.com", 443));
    assert.ok(a.allowsName("eu.x.openai.azure.com", 443));
    assert.ok(!a.allowsName("openai.azure.com", 443), "a wildcard does not cover the apex");
    assert.ok(!a.allowsName("evilopenai.azure.com", 443));
    assert.ok(!a.allowsNameExactly("eu.openai.azure.com", 443));
    assert.ok(a.allowsName("vllm.local", 8000));
    assert.ok(!a.allowsName("vllm.local", 8001));
    assert.ok(a.allowsAddress(ip("127.0.0.1"), 8000));
    assert.ok(a.allowsAddress(ip("::ffff:127.0.0.1"), 8000), "the mapped form is the same host");
    assert.ok(!a.allowsAddress(ip("127.0.0.1"), 8080));
    assert.ok(!a.allowsAddress(ip("2002:7f00:1::"), 8000), "6to4 is a different host on the wire");
    assert.ok(a.allowsAddress(ip("::1"), 8001));
    assert.ok(a.allowsAddress(ip("10.20.3.4"), 1234));
    assert.ok(!a.allowsAddress(ip("10.21.0.1"), 1234));
  });

  test("rejects entries that are none of the forms", () => {
    for (const bad of [
      "*",
      "http://api.openai.com",
      "a b",
      "1.2.3.4:99999",
      "[::1",
      "10.0.0.0/40",
      "*.*.com",
    ]) {
      assert.throws(() => parseAllowEntry(bad), /allow-list entry/, bad);
    }
  });
});
