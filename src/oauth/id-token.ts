// ID token validation (OIDC Core §3.1.3.7) with jose: the signature against the provider's
// JWKS, then iss, aud, azp, exp, iat and nonce. oauth4webapi checks the claims of an ID token
// that arrives in a token answer but, by design, not its signature (TLS authenticated the
// token endpoint); the callback wants the signature checked too, so this is that step.
import * as jose from "jose";
import type { App } from "../apps/app-store.ts";
import { AppError } from "../errors/problem.ts";
import type { OAuthContext } from "./grants.ts";
import { expectedIssuer } from "./issuer.ts";
import { providerFetch, unavailableFailure } from "./provider-fetch.ts";
import { ProviderFailure } from "./provider-failure.ts";

/**
 * OIDC Core §3.1.3.7 step 7 lets an RP refuse algorithms it did not register for; we accept
 * the asymmetric ones only. `none` is never a signature, and an HS* token would be checked with
 * the client secret, which a JWKS never holds, so both fail here by name rather than by accident.
 */
export const ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

/** Seconds of clock difference tolerated on exp/iat (OIDC Core §3.1.3.7 steps 9-10 allow some). */
const CLOCK_TOLERANCE_S = 30;

interface CachedJwks {
  keys: ReturnType<typeof jose.createRemoteJWKSet>;
  /** The latest caller's context: a cached key set outlives the context that first built it. */
  ctx: OAuthContext;
}

// One remote key set per app and JWKS URL, kept across calls so keys are fetched once and
// reused; jose fetches again when a token names an unknown `kid` (key rotation).
const jwksCache = new Map<string, CachedJwks>();

function keySetFor(ctx: OAuthContext, app: App, jwksUri: string): CachedJwks["keys"] {
  const key = `${app.id}\u0000${jwksUri}`;
  let entry = jwksCache.get(key);
  if (!entry) {
    const created: CachedJwks = {
      ctx,
      keys: jose.createRemoteJWKSet(new URL(jwksUri), {
        // Through the SSRF guard with our time bound; a 429/5xx from the JWKS endpoint is the
        // provider being unavailable, not a bad token.
        [jose.customFetch]: async (url, init) => {
          const response = await providerFetch(created.ctx)(url, init);
          const unavailable = unavailableFailure(response, created.ctx.clock, "the JWKS endpoint");
          if (unavailable) throw unavailable;
          return response;
        },
        // An unknown kid always triggers one refetch (jose dedupes concurrent ones): ID tokens
        // only reach us from the token endpoint, so this cannot be driven by a stranger.
        cooldownDuration: 0,
      }),
    };
    entry = created;
    jwksCache.set(key, entry);
  }
  entry.ctx = ctx;
  return entry.keys;
}

/** OIDC Core §3.1.3.7: signature (JWKS, cached, one refetch on unknown kid), iss, aud, azp, exp, iat, nonce. */
export async function validateIdToken(
  ctx: OAuthContext,
  app: App,
  idToken: string,
  p: { nonce: string | null },
): Promise<Record<string, unknown>> {
  if (!app.jwksUri) throw new AppError("provider_error", "an ID token came back but the app has no JWKS URI to check its signature");
  if (!URL.canParse(app.jwksUri)) throw new AppError("provider_error", "the app's JWKS URI is not a URL");
  if (!app.clientId) throw new AppError("invalid_request", `the app "${app.id}" has no client ID`);
  let claims: jose.JWTPayload;
  try {
    // OIDC Core §3.1.3.7 step 2: iss MUST exactly match the issuer (issuer.ts: which one).
    const issuer = expectedIssuer(app, jose.decodeJwt(idToken));
    ({ payload: claims } = await jose.jwtVerify(idToken, keySetFor(ctx, app, app.jwksUri), {
      algorithms: ID_TOKEN_ALGORITHMS,
      ...(issuer === null ? {} : { issuer }),
      // Step 3: aud MUST contain our client_id.
      audience: app.clientId,
      // Steps 9-10: exp and iat are required; time is ctx.clock's.
      requiredClaims: ["iss", "sub", "aud", "exp", "iat"],
      currentDate: new Date(ctx.clock.now()),
      clockTolerance: CLOCK_TOLERANCE_S,
    }));
  } catch (err) {
    throw idTokenError(err);
  }
  const iat = claims.iat!;
  if (iat * 1000 > ctx.clock.now() + CLOCK_TOLERANCE_S * 1000) {
    throw new AppError("provider_error", "the ID token was issued in the future (iat)");
  }
  // Steps 4-5: with several audiences azp is required; when present it MUST be our client_id.
  const audiences = [claims.aud].flat();
  if (audiences.length > 1 && claims.azp === undefined) {
    throw new AppError("provider_error", "the ID token has several audiences and no azp");
  }
  if (claims.azp !== undefined && claims.azp !== app.clientId) {
    throw new AppError("provider_error", "the ID token's azp is not this app's client ID");
  }
  // Step 11: the nonce MUST be the one sent in the authorization request.
  if (p.nonce !== null && claims.nonce !== p.nonce) {
    throw new AppError("provider_error", claims.nonce === undefined ? "the ID token has no nonce" : "the ID token's nonce does not match the request's");
  }
  return claims as Record<string, unknown>;
}

function idTokenError(err: unknown): AppError {
  if (err instanceof ProviderFailure) {
    return new AppError(
      err.kind === "unavailable" ? "provider_unavailable" : "provider_error",
      `the provider's signing keys could not be fetched: ${err.message}`,
      { cause: err, ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }) },
    );
  }
  const at = (m: string) => new AppError("provider_error", m, { cause: err });
  if (err instanceof jose.errors.JWTExpired) return at("the ID token has expired (exp)");
  if (err instanceof jose.errors.JWTClaimValidationFailed) {
    const claim = err.claim;
    if (err.reason === "missing") return at(`the ID token has no ${claim} claim`);
    if (claim === "iss") return at("the ID token's issuer (iss) is not the app's issuer");
    if (claim === "aud") return at("the ID token's audience (aud) is not this app's client ID");
    if (claim === "nbf") return at("the ID token is not yet valid (nbf)");
    return at(`the ID token's ${claim} claim is not valid`);
  }
  if (err instanceof jose.errors.JOSEAlgNotAllowed) return at("the ID token's signature algorithm is not allowed (none and HS* are refused)");
  if (err instanceof jose.errors.JWKSNoMatchingKey) return at("the ID token is not signed by any of the provider's keys (kid)");
  if (err instanceof jose.errors.JWSSignatureVerificationFailed) return at("the ID token's signature does not verify");
  if (err instanceof jose.errors.JWKSTimeout) return new AppError("provider_unavailable", "the provider's signing keys did not arrive in time", { cause: err });
  // jose reports a JWKS answer that is not 200 JSON as a generic error naming the key set.
  const jwksAnswer = err instanceof jose.errors.JOSEError && err.code === "ERR_JOSE_GENERIC" && /JSON Web Key Set/.test(err.message);
  if (jwksAnswer || err instanceof jose.errors.JWKSInvalid || err instanceof jose.errors.JWKSMultipleMatchingKeys) {
    return at("the provider's JWKS is not usable");
  }
  if (err instanceof jose.errors.JOSEError) return at(`the ID token is not a valid signed JWT (${err.code})`);
  return at("the ID token is not a valid signed JWT");
}

/**
 * OIDC Core §12.2: an ID token from a refresh MUST have the same iss and sub as the original,
 * and the same aud. Throws ProviderFailure("bad_answer") naming what changed.
 */
export function assertSameIdentity(originalClaims: Record<string, unknown>, newClaims: Record<string, unknown>): void {
  const audiences = (v: unknown) => JSON.stringify([v].flat().map(String).sort());
  const changed =
    originalClaims.iss !== newClaims.iss
      ? "issuer (iss)"
      : originalClaims.sub !== newClaims.sub
        ? "account (sub)"
        : audiences(originalClaims.aud) !== audiences(newClaims.aud)
          ? "audience (aud)"
          : null;
  if (changed) throw new ProviderFailure("bad_answer", `the refreshed ID token names another ${changed}`);
}
