// How a provider call failed, in the classes the rest of the service acts on (SPEC §6):
// - grant_invalid: invalid_grant / invalid_client: the connection needs reconnecting, no retry.
// - unavailable:   timeout, network error, 429, 5xx: retry with backoff, never mark the connection.
// - bad_answer:    anything else the provider said that is not a usable answer (other OAuth
//                  errors, malformed JSON, a missing access_token, HTML with status 200...).
// - refused:       the SSRF guard refused the destination before connecting.
export type ProviderFailureKind = "grant_invalid" | "unavailable" | "bad_answer" | "refused";

export class ProviderFailure extends Error {
  override name = "ProviderFailure";
  readonly kind: ProviderFailureKind;
  /** The OAuth `error` code when the provider sent one (RFC 6749 §5.2). */
  readonly oauthError: string | undefined;
  /** Seconds from Retry-After, when the provider sent it. */
  readonly retryAfter: number | undefined;
  /** HTTP status of the provider's answer, when there was one. */
  readonly status: number | undefined;
  /** Set when what failed is the ID token in the answer (its claims or timestamps), not the rest. */
  readonly concerns: "id_token" | undefined;

  constructor(
    kind: ProviderFailureKind,
    /** Safe to show to an admin and to store in lastError: never a token or secret. */
    message: string,
    opts: { oauthError?: string; retryAfter?: number; status?: number; cause?: unknown; concerns?: "id_token" } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.oauthError = opts.oauthError;
    this.retryAfter = opts.retryAfter;
    this.status = opts.status;
    this.concerns = opts.concerns;
  }
}
