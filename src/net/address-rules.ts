// Which IP addresses a provider call may connect to: public unicast only. Everything a server
// inside a network can reach but the internet cannot (loopback, RFC 1918, link-local with the
// cloud metadata service, CGNAT, ULA) is refused, in whichever spelling it arrives, including
// IPv6 forms that embed an IPv4 address. A pure function over address strings, so every rule is
// unit-tested without a network; the SSRF guard (outbound-fetch.ts) applies it to the literal
// host of a URL and to every address a host name resolves to.
import ipaddr from "ipaddr.js";

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

const ipv4Reasons: Record<string, string> = {
  unspecified: "an unspecified address (0.0.0.0/8)",
  broadcast: "the broadcast address",
  multicast: "a multicast address",
  linkLocal: "a link-local address (169.254.0.0/16, where cloud metadata services live)",
  loopback: "a loopback address",
  carrierGradeNat: "a shared (CGNAT) address (100.64.0.0/10)",
  private: "a private address (RFC 1918)",
  reserved: "a reserved address",
  benchmarking: "a reserved address (benchmarking)",
  as112: "a reserved address (AS112)",
  amt: "a reserved address (AMT)",
};

const ipv6Reasons: Record<string, string> = {
  unspecified: "an unspecified address (::)",
  linkLocal: "a link-local address (fe80::/10)",
  multicast: "a multicast address",
  loopback: "a loopback address",
  uniqueLocal: "a private address (unique local, fc00::/7)",
  deprecatedSiteLocal: "a site-local address (fec0::/10)",
  discard: "a discard-only address (100::/64)",
  teredo: "a Teredo tunnel address",
  benchmarking: "a reserved address (benchmarking)",
  amt: "a reserved address (AMT)",
  as112v6: "a reserved address (AS112)",
  deprecatedOrchid: "a reserved address (ORCHID)",
  orchid2: "a reserved address (ORCHIDv2)",
  droneRemoteIdProtocolEntityTags: "a reserved address (DRIP)",
};

/** ::ffff:0:0/96 translated (RFC 6145) and 64:ff9b:1::/48 local-use NAT64 (RFC 8215). */
const NAT64_LOCAL_USE = ipaddr.IPv6.parseCIDR("64:ff9b:1::/48");
const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR("::/96");
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR("2000::/3");

/**
 * Why a connection to `address` is refused, or null when it is a public unicast address.
 * An unreadable string is refused too: the guard fails closed.
 */
export function refusalReason(address: string): string | null {
  const text = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  let parsed: IPv4 | IPv6;
  try {
    // ipaddr.js reads the legacy IPv4 spellings (127.1, 0x7f.0.0.1, 0177.0.0.1, 2130706433)
    // as inet_aton and getaddrinfo would, which is how they would be connected to.
    parsed = ipaddr.parse(text);
  } catch {
    return "not an IP address";
  }
  return parsed.kind() === "ipv4" ? ipv4Refusal(parsed as IPv4) : ipv6Refusal(parsed as IPv6);
}

/** True when the host part of a URL (brackets allowed) is an IP literal rather than a name. */
export function isIpLiteral(host: string): boolean {
  const text = host.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  return ipaddr.IPv6.isValid(text) || ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv4.isValid(text);
}

function ipv4Refusal(ip: IPv4): string | null {
  const range = ip.range();
  if (range === "unicast") return null;
  return ipv4Reasons[range] ?? `a reserved address (${range})`;
}

function ipv6Refusal(ip: IPv6): string | null {
  const range = ip.range();
  const embedded = embeddedIpv4(ip, range);
  if (embedded) {
    const inner = ipv4Refusal(embedded.address);
    return inner === null ? null : `${inner}, in its ${embedded.form} form`;
  }
  if (ip.match(NAT64_LOCAL_USE)) return "a local-use NAT64 address (64:ff9b:1::/48)";
  if (range === "unicast") {
    // RFC 4291 §2.5.5.1: IPv4-compatible addresses (::a.b.c.d) are deprecated; whatever sits
    // outside 2000::/3 is not yet allocated for global unicast.
    if (ip.match(IPV4_COMPATIBLE)) return "a reserved address (IPv4-compatible, ::/96)";
    if (!ip.match(GLOBAL_UNICAST)) return "a reserved address (outside global unicast 2000::/3)";
    return null;
  }
  return ipv6Reasons[range] ?? `a reserved address (${range})`;
}

/** IPv6 forms that carry an IPv4 destination, judged by the IPv4 address they lead to. */
function embeddedIpv4(ip: IPv6, range: string): { address: IPv4; form: string } | null {
  const p = ip.parts;
  const low32 = () => new ipaddr.IPv4([p[6]! >> 8, p[6]! & 0xff, p[7]! >> 8, p[7]! & 0xff]);
  // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d
  if (range === "ipv4Mapped") return { address: ip.toIPv4Address(), form: "IPv4-mapped IPv6" };
  // RFC 6145: ::ffff:0:a.b.c.d
  if (range === "rfc6145") return { address: low32(), form: "IPv4-translated IPv6" };
  // RFC 6052 §2.1: 64:ff9b::/96 (the well-known NAT64 prefix) keeps the IPv4 address in the last 32 bits.
  if (range === "rfc6052" && !ip.match(NAT64_LOCAL_USE)) return { address: low32(), form: "NAT64" };
  // RFC 3056 §2: 2002:AABB:CCDD::/48 routes to the IPv4 address AA.BB.CC.DD.
  if (range === "6to4") {
    return { address: new ipaddr.IPv4([p[1]! >> 8, p[1]! & 0xff, p[2]! >> 8, p[2]! & 0xff]), form: "6to4" };
  }
  return null;
}
