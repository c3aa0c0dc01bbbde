// What oauth4webapi throws once an answer has passed token-answer.ts, in ProviderFailure terms.
// Its validation errors (ID token claims, malformed members) mean the provider's answer is not
// usable. Their messages name the check and never carry token values, but their `cause` may
// hold the whole answer (tokens included), so it is not kept: the message says it all.
import * as oauth from "oauth4webapi";
import { AppError } from "../errors/problem.ts";
import { ProviderFailure } from "./provider-failure.ts";

export function protocolFailure(err: unknown, what: string): ProviderFailure | AppError {
  if (err instanceof ProviderFailure || err instanceof AppError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === oauth.HTTP_REQUEST_FORBIDDEN || code === oauth.REQUEST_PROTOCOL_FORBIDDEN) {
    return new ProviderFailure("refused", `${what}: plain http endpoints are only allowed with CONNECTED_APPS_ALLOW_PRIVATE_URLS`, { cause: err });
  }
  if (err instanceof oauth.ResponseBodyError) {
    return new ProviderFailure("bad_answer", `${what}: the provider answered ${err.error}`, { oauthError: err.error, status: err.status });
  }
  if (err instanceof oauth.OperationProcessingError || err instanceof oauth.UnsupportedOperationError) {
    // In a token answer the ID token is the only JWT, so a JWT claim or timestamp check that
    // failed is the ID token's (OIDC Core §3.1.3.7): say so in a field, not only in the message.
    const jwtCheck = err.code === oauth.JWT_CLAIM_COMPARISON || err.code === oauth.JWT_TIMESTAMP_CHECK || /\bID Token\b/.test(err.message);
    return new ProviderFailure("bad_answer", `${what}: ${err.message}`, jwtCheck ? { concerns: "id_token" } : {});
  }
  return new ProviderFailure("unavailable", `${what} failed: ${(err as Error | null)?.message ?? String(err)}`, { cause: err });
}
