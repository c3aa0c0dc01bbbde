// What every grant (authorization code, refresh, client credentials) yields once the one token
// answer reader (token-answer.ts) has applied the app's quirk fields and validated the answer.
export interface TokenSet {
  accessToken: string;
  /** Always "Bearer": token-answer.ts reads any non-proof-of-possession token_type as RFC 6750 Bearer. */
  tokenType: string;
  /** null: the answer had none (a refresh answer without one keeps the old one). */
  refreshToken: string | null;
  idToken: string | null;
  /** Seconds, after `defaultExpiresIn`; null: unknown lifetime. */
  expiresIn: number | null;
  /** Granted scopes when the answer states them; null: not stated (use the requested ones). */
  scopes: string[] | null;
}

/** The provider account a connection belongs to (ID token claims or userinfo). */
export interface ProviderAccount {
  sub: string | null;
  email: string | null;
  name: string | null;
}
