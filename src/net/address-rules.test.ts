// The SSRF guard's address rules over many spellings of the same destinations. Pure: no test
// here connects anywhere.
import { describe, expect, it } from "vitest";
import { isIpLiteral, refusalReason } from "./address-rules.ts";

describe("refusalReason", () => {
  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
  ])("allows the public address %s", (address) => {
    expect(refusalReason(address)).toBeNull();
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["127.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["0x7f.0.0.1", "loopback"],
    ["0x7f000001", "loopback"],
    ["2130706433", "loopback"],
    ["0177.0.0.1", "loopback"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["::ffff:127.0.0.1", "loopback address, in its IPv4-mapped IPv6 form"],
    ["::ffff:7f00:1", "loopback address, in its IPv4-mapped IPv6 form"],
    ["0:0:0:0:0:ffff:127.0.0.1", "IPv4-mapped"],
    ["10.0.0.1", "private address (RFC 1918)"],
    ["10.255.255.255", "RFC 1918"],
    ["012.0.0.1", "RFC 1918"],
    ["167772161", "RFC 1918"],
    ["172.16.0.1", "RFC 1918"],
    ["172.31.255.255", "RFC 1918"],
    ["192.168.0.1", "RFC 1918"],
    ["0xc0.0xa8.1.1", "RFC 1918"],
    ["::ffff:10.0.0.1", "RFC 1918), in its IPv4-mapped IPv6 form"],
    ["::ffff:0:a00:1", "RFC 1918), in its IPv4-translated IPv6 form"],
    ["2002:c0a8:101::1", "RFC 1918), in its 6to4 form"],
    ["fc00::1", "unique local"],
    ["fd12:3456::1", "unique local"],
    ["169.254.169.254", "link-local"],
    ["169.254.0.1", "cloud metadata"],
    ["2852039166", "link-local"],
    ["::ffff:169.254.169.254", "link-local"],
    ["64:ff9b::a9fe:a9fe", "link-local address (169.254.0.0/16, where cloud metadata services live), in its NAT64 form"],
    ["64:ff9b:1::a00:1", "local-use NAT64"],
    ["fe80::1", "link-local address (fe80::/10)"],
    ["fe80::1%eth0", "link-local"],
    ["fec0::1", "site-local"],
    ["100.64.0.1", "CGNAT"],
    ["100.127.255.255", "CGNAT"],
    ["0.0.0.0", "unspecified"],
    ["0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["255.255.255.255", "broadcast"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::1", "multicast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["4000::1", "outside global unicast"],
    ["2001::1", "Teredo"],
    ["100::1", "discard"],
  ])("refuses %s (%s)", (address, why) => {
    expect(refusalReason(address)).toContain(why);
  });

  it.each(["localhost", "example.com", "", "999.1.1.1", "1.2.3.4.5", "::g"])("refuses %j, which is not an IP address (fails closed)", (text) => {
    expect(refusalReason(text)).toBe("not an IP address");
  });
});

describe("isIpLiteral", () => {
  it.each(["127.0.0.1", "8.8.8.8", "[::1]", "::ffff:127.0.0.1", "fe80::1%eth0", "2130706433"])("sees %s as an address", (host) => {
    expect(isIpLiteral(host)).toBe(true);
  });
  it.each(["localhost", "example.com", "api.github.com", "cafe"])("sees %s as a name", (host) => {
    expect(isIpLiteral(host)).toBe(false);
  });
});
