// The client credentials grant (RFC 6749 §4.4): a token for the app itself.
import * as oauth from "oauth4webapi";
import type { App } from "../apps/app-store.ts";
import { authorizationServerFor, clientAuthFor, insecureRequestsOption, oauthClientFor, requireTokenEndpoint } from "./client-auth.ts";
import type { OAuthContext } from "./grants.ts";
import { protocolFailure } from "./protocol-failure.ts";
import { tokenEndpointFetch, toTokenSet } from "./token-answer.ts";
import type { TokenSet } from "./token-set.ts";

/** RFC 6749 §4.4: client credentials for the app itself; throws ProviderFailure. */
export async function clientCredentialsGrant(ctx: OAuthContext, app: App): Promise<TokenSet> {
  requireTokenEndpoint(app);
  const as = authorizationServerFor(app);
  const client = oauthClientFor(ctx, app);
  const clientAuth = clientAuthFor(ctx, app);
  // RFC 6749 §4.4.2: scope is optional; joined as the provider joins scopes elsewhere.
  const parameters = new URLSearchParams();
  if (app.scopes.length > 0) parameters.set("scope", app.scopes.join(app.scopeSeparator));
  try {
    const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, {
      [oauth.customFetch]: tokenEndpointFetch(ctx, app),
      ...insecureRequestsOption(ctx),
    });
    return toTokenSet(await oauth.processClientCredentialsResponse(as, client, response));
  } catch (err) {
    throw protocolFailure(err, "the client credentials grant");
  }
}
