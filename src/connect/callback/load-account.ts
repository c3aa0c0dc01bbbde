// Rule: the connection names the provider account: `sub`, `email`, `name` from the validated ID
// token (OIDC Core §5.1), else from userinfo (OIDC Core §5.3) when the app has that endpoint,
// else unknown. A failing userinfo call does not fail the flow: the tokens are good.
import { fetchUserinfo } from "../../oauth/grants.ts";
import type { ProviderAccount } from "../../oauth/token-set.ts";
import { established, type CallbackCheck } from "./callback-flow.ts";

const claim = (claims: Record<string, unknown>, name: string) => {
  const v = claims[name];
  return typeof v === "string" && v.length > 0 ? v.slice(0, 500) : null;
};

export const loadAccount: CallbackCheck = async (ctx, flow) => {
  const tokens = established(flow.tokens, "tokens");
  flow.account = flow.idTokenClaims ? fromClaims(flow.idTokenClaims) : await fromUserinfo();

  async function fromUserinfo(): Promise<ProviderAccount> {
    const unknown = { sub: null, email: null, name: null };
    if (!flow.app.userinfoEndpoint) return unknown;
    try {
      return (await fetchUserinfo(ctx, flow.app, tokens.accessToken)) ?? unknown;
    } catch (err) {
      ctx.log.warn({ appId: flow.app.id, reason: (err as Error).message }, "userinfo failed; the connection is stored without the account's name");
      return unknown;
    }
  }
};

function fromClaims(claims: Record<string, unknown>): ProviderAccount {
  return { sub: claim(claims, "sub"), email: claim(claims, "email"), name: claim(claims, "name") };
}
