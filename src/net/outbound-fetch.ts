// Outbound HTTP to providers. Placeholder until the SSRF-guard work lands: it must refuse
// loopback/private/link-local destinations unless allowPrivateUrls, with bounded time and size.
import type { OutboundFetch } from "../context.ts";

export interface OutboundFetchOptions {
  allowPrivateUrls: boolean;
}

export function createOutboundFetch(_opts: OutboundFetchOptions): OutboundFetch {
  return (input, init) => fetch(input, init);
}
