// The provider account behind a token, from the userinfo endpoint (OIDC Core §5.3), when the
// token answer had no ID token.
import * as oauth from "oauth4webapi";
import type { App } from "../apps/app-store.ts";
import { authorizationServerFor, insecureRequestsOption, oauthClientFor } from "./client-auth.ts";
import type { OAuthContext } from "./grants.ts";
import { providerFetch, unavailableFailure } from "./provider-fetch.ts";
import { ProviderFailure } from "./provider-failure.ts";
import { protocolFailure } from "./protocol-failure.ts";
import { readAnswerBody } from "./token-answer.ts";
import type { ProviderAccount } from "./token-set.ts";

/** OIDC Core §5.3: the account from userinfo; null when the app has no userinfo endpoint. */
export async function fetchUserinfo(ctx: OAuthContext, app: App, accessToken: string): Promise<ProviderAccount | null> {
  if (!app.userinfoEndpoint) return null;
  const as = authorizationServerFor(app);
  const client = oauthClientFor(ctx, app);
  try {
    const response = await oauth.userInfoRequest(as, client, accessToken, {
      [oauth.customFetch]: providerFetch(ctx),
      ...insecureRequestsOption(ctx),
    });
    const unavailable = unavailableFailure(response, ctx.clock, "the userinfo endpoint");
    if (unavailable) throw unavailable;
    if (response.status !== 200) {
      throw new ProviderFailure("bad_answer", `the userinfo endpoint answered HTTP ${response.status}`, { status: response.status });
    }
    return accountFrom(await readAnswerBody(response, "the userinfo endpoint"));
  } catch (err) {
    throw protocolFailure(err, "the userinfo request");
  }
}

// oauth4webapi's processUserInfoResponse accepts OIDC userinfo only (a `sub` is required).
// Several templates point userinfoEndpoint at a provider's plain "who am I" API instead
// (GitHub /user: id, login; Atlassian /me: account_id; Zendesk: {user: {...}}), so the
// account is read from the common member names; OIDC's `sub` wins when present.
function accountFrom(body: Record<string, unknown>): ProviderAccount {
  const source = hasIdentifier(body) || !isObject(body.user) ? body : body.user;
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null);
  return {
    sub: text(source.sub) ?? text(source.id) ?? text(source.account_id) ?? text(source.user_id),
    email: text(source.email),
    name: text(source.name) ?? text(source.login),
  };
}

function hasIdentifier(o: Record<string, unknown>): boolean {
  return ["sub", "id", "account_id", "user_id"].some((k) => o[k] !== undefined && o[k] !== null);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
