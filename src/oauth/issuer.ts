// Which `iss` an app's ID tokens must carry (OIDC Core §3.1.3.7 step 2). Usually the app's
// issuer, exactly. Two cases are data, not provider names:
// - an issuer with a `{tenantid}` placeholder, as a multi-tenant provider's discovery document
//   publishes it (Microsoft "common": https://login.microsoftonline.com/{tenantid}/v2.0): the
//   token's `tid` claim fills it, as openid-client does;
// - no issuer at all (a plain OAuth 2 app, or a template that leaves it open): no issuer can be
//   compared, and the signature against the app's pinned JWKS URI is what ties the token to the
//   provider.
import type { App } from "../apps/app-store.ts";

const TENANT_PLACEHOLDER = "{tenantid}";
const UNMATCHABLE_ISSUER = "urn:connected-apps:token-without-tid";

/** Whether the app's issuer is one fixed string (an RFC 9207 `iss` can be compared with it). */
export function hasFixedIssuer(app: App): app is App & { issuer: string } {
  return app.issuer !== null && !app.issuer.includes(TENANT_PLACEHOLDER);
}

/** The issuer these claims must name; null when the app fixes none. */
export function expectedIssuer(app: App, claims: Record<string, unknown>): string | null {
  if (app.issuer === null) return null;
  if (!app.issuer.includes(TENANT_PLACEHOLDER)) return app.issuer;
  // A token without a tid cannot fill the placeholder: expect what no token can carry (an iss
  // spelling the placeholder literally must not pass).
  if (typeof claims.tid !== "string" || claims.tid === "") return UNMATCHABLE_ISSUER;
  return app.issuer.replaceAll(TENANT_PLACEHOLDER, claims.tid);
}
