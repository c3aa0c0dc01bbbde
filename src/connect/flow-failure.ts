// Why a connect flow stopped, as the user sees it. `code` goes to returnTo as `error=<code>`;
// `summary` and `advice` make the page (always escaped); `internal` is logged, never shown, as
// node-oidc-provider keeps a public message apart from the detail.
export type FlowErrorCode =
  | "invalid_request" //       the callback's query is malformed (duplicate or missing parameters)
  | "invalid_state" //         state missing, unknown, expired, already used, or for another app
  | "browser_mismatch" //      the callback came to a browser that did not start the flow
  | "invalid_issuer" //        RFC 9207: `iss` missing or not the app's issuer
  | "invalid_id_token" //      the ID token failed validation (signature, iss, aud, nonce, time)
  | "provider_error" //        the provider refused the code or answered with something unusable
  | "provider_unavailable" //  the provider did not answer
  | "server_error" //          we could not finish (storage): nothing was stored
  | "app_not_ready" //         the app lacks an endpoint or client id
  | "invalid_return_to" //     `?returnTo=` is not a path on this site
  | "invalid_session" //       connect session link unknown, expired or already used
  | "not_found"; //            no such app

export class FlowFailure extends Error {
  override name = "FlowFailure";
  constructor(
    /** One of FlowErrorCode, or the provider's own RFC 6749 §4.1.2.1 error code. */
    readonly code: FlowErrorCode | string,
    readonly status: number,
    readonly summary: string,
    readonly advice: string,
    readonly internal?: string,
  ) {
    super(`${code}: ${summary}`);
  }
}
