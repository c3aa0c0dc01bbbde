// An app can start a flow only with the endpoints and client id the authorization request needs.
import type { App } from "../apps/app-store.ts";

/** Why this app cannot start a connect flow, or null when it can. */
export function appNotReadyReason(app: App): string | null {
  const missing = [
    app.authorizationEndpoint ? null : "authorizationEndpoint",
    app.tokenEndpoint ? null : "tokenEndpoint",
    app.clientId ? null : "clientId",
  ].filter((f): f is string => f !== null);
  return missing.length === 0 ? null : `it has no ${missing.join(", ")}`;
}
