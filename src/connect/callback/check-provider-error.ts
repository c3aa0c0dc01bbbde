// Rule: RFC 6749 §4.1.2.1: an `error` in the authorization response ends the flow and nothing is
// stored. The provider's `error` and `error_description` are shown to the user (escaped by the
// page). `error` goes on to returnTo only when it looks like a registered code (RFC 6749 §A.7
// allows more, but a host app's page should not have to escape markup from a provider).
import { redirectUriFor } from "../../apps/app-service.ts";
import { FlowFailure } from "../flow-failure.ts";
import type { CallbackCheck } from "./callback-flow.ts";

const ERROR_CODE = /^[a-z0-9_.-]{1,64}$/i;

export const checkProviderError: CallbackCheck = async (ctx, flow) => {
  const error = flow.query.get("error");
  if (error === undefined) return;
  const description = flow.query.get("error_description")?.slice(0, 500);
  const code = ERROR_CODE.test(error) ? error : "provider_error";
  const said = `The provider refused: ${error.slice(0, 100)}${description ? ` (${description})` : ""}.`;
  throw new FlowFailure(code, error === "access_denied" ? 403 : 400, said, adviceFor(error, description, redirectUriFor(ctx.config.publicUrl, flow.app.id)));
};

export function adviceFor(error: string, description: string | undefined, redirectUri: string): string {
  if (/redirect/i.test(`${error} ${description ?? ""}`)) {
    return `The provider does not accept this service's redirect address. An administrator must register exactly this Redirect URI with the provider: ${redirectUri}`;
  }
  if (error === "access_denied") return "Nothing was connected. If you meant to connect, start again and allow access.";
  return "Nothing was connected. Start connecting again; if it keeps failing, an administrator should check the app's settings at the provider.";
}
