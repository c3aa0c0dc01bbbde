// Rule: the connection names the provider account: `sub`, `email`, `name` from the validated ID
// token (OIDC Core §5.1); what it lacks (providers leave email and name out of the ID token when
// an access token is issued) from userinfo (OIDC Core §5.3) when the app has that endpoint, and
// only when userinfo's `sub` is the ID token's (§5.3.2); else unknown. A failing userinfo call
// does not fail the flow: the tokens are good.
import { fetchUserinfo } from "../../oauth/grants.ts";
import type { ProviderAccount } from "../../oauth/token-set.ts";
import { established, type CallbackCheck } from "./callback-flow.ts";

const claim = (claims: Record<string, unknown>, name: string) => {
  const v = claims[name];
  return typeof v === "string" && v.length > 0 ? v.slice(0, 500) : null;
};

export const loadAccount: CallbackCheck = async (ctx, flow) => {
  const tokens = established(flow.tokens, "tokens");
  const fromIdToken = flow.idTokenClaims ? fromClaims(flow.idTokenClaims) : null;
  if (fromIdToken && fromIdToken.email !== null && fromIdToken.name !== null) {
    flow.account = fromIdToken;
    return;
  }
  const fromUserinfo = await userinfo();
  if (!fromIdToken) {
    flow.account = fromUserinfo ?? { sub: null, email: null, name: null };
    return;
  }
  // OIDC Core §5.3.2: userinfo for another subject is not this account's; ignore it.
  const same = fromUserinfo !== null && fromUserinfo.sub === fromIdToken.sub;
  flow.account = same ? { sub: fromIdToken.sub, email: fromIdToken.email ?? fromUserinfo.email, name: fromIdToken.name ?? fromUserinfo.name } : fromIdToken;

  async function userinfo(): Promise<ProviderAccount | null> {
    if (!flow.app.userinfoEndpoint) return null;
    try {
      return await fetchUserinfo(ctx, flow.app, tokens.accessToken);
    } catch (err) {
      ctx.log.warn({ appId: flow.app.id, reason: (err as Error).message }, "userinfo failed; the connection is stored without the account's email or name");
      return null;
    }
  }
};

function fromClaims(claims: Record<string, unknown>): ProviderAccount {
  return { sub: claim(claims, "sub"), email: claim(claims, "email"), name: claim(claims, "name") };
}
