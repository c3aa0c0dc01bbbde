// THE one reader of token endpoint answers: every grant (authorization code, refresh, client
// credentials) sends its request through tokenEndpointFetch, so the app's quirk fields
// (SPEC §4: tokenRequestFormat, tokenResponsePath, defaultExpiresIn, scopeSeparator) and the
// always-on leniencies are applied here and nowhere else. No branch keys on a provider's name.
//
// Why a customFetch: oauth4webapi is strict by design. It rejects an answer that is not
// `application/json`, has no `token_type`, a `token_type` other than bearer/DPoP, a non-200
// status carrying an error, and cannot see an `error` member inside a 200 answer at all. Real
// providers send exactly those (GitHub: form-encoded answers and errors with status 200; Slack:
// `ok:false`, tokens nested under `authed_user`, token_type "user"). Rather than loosening its
// checks, we rewrite the provider's answer into the conforming RFC 6749 §5.1 JSON it would
// have sent, and throw a classified ProviderFailure for every answer that is not a token; then
// oauth4webapi validates the normalised answer (including the ID token's claims) as usual.
import type { TokenEndpointResponse } from "oauth4webapi";
import type { App } from "../apps/app-store.ts";
import type { Clock } from "../context.ts";
import { readBodyWithLimit, ResponseTooLargeError } from "../net/outbound-fetch.ts";
import type { OAuthContext } from "./grants.ts";
import { providerFetch, unavailableFailure } from "./provider-fetch.ts";
import { ProviderFailure } from "./provider-failure.ts";
import type { TokenSet } from "./token-set.ts";

/** A token answer larger than this is not a token answer. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** The fetch oauth4webapi's token requests go through ([customFetch]). */
export function tokenEndpointFetch(ctx: OAuthContext, app: App) {
  const send = providerFetch(ctx);
  return async (url: string, init: { body: unknown; headers: Record<string, string>; method: string; redirect: "manual"; signal?: AbortSignal }) => {
    const response = await send(url, { ...init, ...encodeTokenRequest(app, init) });
    try {
      return await normaliseTokenAnswer(app, response, ctx.clock);
    } catch (err) {
      throw withoutRequestSecrets(err, requestSecrets(init));
    }
  };
}

/** Request members whose values must never reach a failure message, even when a provider echoes them. */
const SECRET_REQUEST_MEMBERS = ["code", "code_verifier", "refresh_token", "client_secret"];

function requestSecrets(init: { body: unknown; headers: Record<string, string> }): string[] {
  const body = init.body instanceof URLSearchParams ? init.body : new URLSearchParams();
  const secrets = SECRET_REQUEST_MEMBERS.map((name) => body.get(name) ?? "");
  // RFC 6749 §2.3.1: client_secret_basic sends the form-urlencoded secret in the header.
  const basic = /^Basic (.+)$/i.exec(init.headers.authorization ?? "")?.[1];
  const password = basic ? Buffer.from(basic, "base64").toString("utf8").split(":")[1] : undefined;
  if (password) secrets.push(decodeURIComponent(password.replaceAll("+", " ")));
  return secrets.filter((s) => s.length >= 4);
}

// A provider's error_description is shown to admins and stored in lastError; some echo what
// they were sent ("invalid refresh token <value>"), so the secrets of this request are cut out.
export function withoutRequestSecrets(err: unknown, secrets: string[]): unknown {
  if (!(err instanceof ProviderFailure)) return err;
  for (const secret of secrets) err.message = err.message.replaceAll(secret, "[redacted]");
  return err;
}

// SPEC §4: `Accept: application/json` always (GitHub answers form-encoded without it), and
// the body as JSON when the app says tokenRequestFormat "json" (Notion). oauth4webapi has
// already added client authentication (header or body members) to what we re-encode.
function encodeTokenRequest(app: App, init: { body: unknown; headers: Record<string, string> }) {
  const headers: Record<string, string> = { ...init.headers, accept: "application/json" };
  if (app.tokenRequestFormat !== "json" || !(init.body instanceof URLSearchParams)) return { headers };
  headers["content-type"] = "application/json";
  return { headers, body: JSON.stringify(Object.fromEntries(init.body)) };
}

/**
 * Reads a provider's token answer and returns the RFC 6749 §5.1 JSON Response oauth4webapi
 * expects, or throws the ProviderFailure that says why it is not a token.
 */
export async function normaliseTokenAnswer(app: App, response: Response, clock: Clock): Promise<Response> {
  const unavailable = unavailableFailure(response, clock, "the token endpoint");
  if (unavailable) throw unavailable;
  // Token requests carry credentials, so redirects are not followed (oauth4webapi asks fetch
  // for redirect: "manual"); a redirect is a misconfigured endpoint, not an answer.
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel().catch(() => undefined);
    throw badAnswer(`the token endpoint answered a redirect (HTTP ${response.status}); check the app's token endpoint`, response.status);
  }
  const body = await readAnswerBody(response, "the token endpoint");
  const failure = failureInAnswer(body, response.status);
  if (failure) throw failure;
  if (response.status !== 200 && response.status !== 201) {
    throw new ProviderFailure("bad_answer", `the token endpoint answered HTTP ${response.status} without an OAuth error`, {
      status: response.status,
    });
  }
  const normalised = normaliseTokenFields(app, body);
  return new Response(JSON.stringify(normalised), { status: 200, headers: { "content-type": "application/json" } });
}

/** The provider's answer as an object: JSON, or form-encoded by its content type (GitHub). */
export async function readAnswerBody(response: Response, what: string): Promise<Record<string, unknown>> {
  const status = response.status;
  const text = await readBodyWithLimit(response, MAX_ANSWER_BYTES).then(
    (bytes) => new TextDecoder().decode(bytes),
    (err: unknown) => {
      if (err instanceof ResponseTooLargeError) throw badAnswer(`${what} answered more than ${MAX_ANSWER_BYTES} bytes`, status);
      throw new ProviderFailure("unavailable", `${what} broke off its answer`, { status, cause: err });
    },
  );
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/x-www-form-urlencoded") return Object.fromEntries(new URLSearchParams(text));
  if (type === "text/html" || /^\s*</.test(text)) {
    throw badAnswer(`${what} answered an HTML page (HTTP ${status}), not a token answer`, status);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badAnswer(`${what} answered ${type || "an untyped body"} (HTTP ${status}) that is not JSON`, status);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw badAnswer(`${what} answered JSON that is not an object (HTTP ${status})`, status);
  }
  return parsed as Record<string, unknown>;
}

// Spellings of RFC 6749 §5.2 invalid_grant used by providers that predate or ignore it: the
// grant (code or refresh token) is dead and asking again will not help.
const DEAD_GRANT_ERRORS = new Set(["invalid_grant", "invalid_client", "bad_verification_code", "bad_refresh_token", "invalid_refresh_token", "invalid_code"]);
// RFC 6749 §4.1.2.1 codes some token endpoints also send: worth retrying later.
const TRANSIENT_ERRORS = new Set(["temporarily_unavailable", "server_error", "slow_down"]);

/**
 * RFC 6749 §5.2 error answers, whatever their HTTP status: an `error` member (GitHub sends
 * them with 200) or `ok: false` (Slack). Null when the answer is not an error.
 */
export function failureInAnswer(body: Record<string, unknown>, status: number): ProviderFailure | null {
  const hasError = (typeof body.error === "string" && body.error !== "") || (typeof body.error === "object" && body.error !== null);
  if (!hasError && body.ok !== false) return null;
  const { code, description } = describeError(body);
  const message = description ? `${code}: ${description}` : code;
  const opts = { oauthError: code, status };
  if (DEAD_GRANT_ERRORS.has(code)) return new ProviderFailure("grant_invalid", description || code, opts);
  if (TRANSIENT_ERRORS.has(code)) return new ProviderFailure("unavailable", `the provider answered ${message}`, opts);
  return new ProviderFailure("bad_answer", `the provider answered ${message}`, opts);
}

function describeError(body: Record<string, unknown>): { code: string; description: string } {
  const error = body.error;
  const nested = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : {};
  const code = typeof error === "string" ? error : typeof nested.code === "string" ? nested.code : "error";
  const text = body.error_description ?? nested.message;
  return { code: shortText(code, 80), description: typeof text === "string" ? shortText(text, 300) : "" };
}

/** Provider text shown to admins: one line, bounded. */
function shortText(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  const line = s.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

const badAnswer = (message: string, status?: number) =>
  new ProviderFailure("bad_answer", message, status === undefined ? {} : { status });

/**
 * The token fields in RFC 6749 §5.1 shape. `tokenResponsePath` names the object holding
 * access_token, refresh_token, expires_in and scope when the answer nests them (Slack's
 * `authed_user`); an answer without that object is read at its top level (Slack's refresh
 * answers are flat). token_type and id_token may sit at the top level either way.
 */
function normaliseTokenFields(app: App, body: Record<string, unknown>): Record<string, unknown> {
  const tokenObject = app.tokenResponsePath ? objectAt(body, app.tokenResponsePath) ?? body : body;
  const accessToken = tokenObject.access_token;
  if (typeof accessToken !== "string" || accessToken === "") {
    throw badAnswer(
      app.tokenResponsePath && tokenObject !== body
        ? `the token answer has no access_token under "${app.tokenResponsePath}"`
        : "the token answer has no access_token",
    );
  }
  const out: Record<string, unknown> = { access_token: accessToken, token_type: bearerTokenType(tokenObject.token_type ?? body.token_type) };
  const expiresIn = readExpiresIn(tokenObject.expires_in) ?? app.defaultExpiresIn;
  if (expiresIn !== null) out.expires_in = expiresIn;
  const refreshToken = optionalString(tokenObject.refresh_token, "refresh_token");
  if (refreshToken) out.refresh_token = refreshToken;
  const scopes = readScopes(tokenObject.scope, app.scopeSeparator);
  if (scopes && scopes.length > 0) out.scope = scopes.join(" ");
  const idToken = optionalString(tokenObject.id_token ?? body.id_token, "id_token");
  if (idToken) out.id_token = idToken;
  return out;
}

function objectAt(body: Record<string, unknown>, path: string): Record<string, unknown> | null {
  let node: unknown = body;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === "object" && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>) : null;
}

// RFC 6749 §5.1 token_type is case-insensitive (§7.1); every token this service holds is sent
// as an RFC 6750 Bearer token, and providers label bearer tokens their own way (Slack: "user",
// "bot") or omit the member. Only a proof-of-possession type is refused: we hold no key for it.
function bearerTokenType(value: unknown): "bearer" {
  if (value !== undefined && value !== null && typeof value !== "string") throw badAnswer("token_type is not a string");
  if (typeof value === "string" && value.toLowerCase() === "dpop") {
    throw badAnswer("the provider issued a DPoP-bound token (token_type DPoP), which this service cannot use");
  }
  return "bearer";
}

// RFC 6749 §5.1: expires_in is the lifetime in seconds. A string of digits is read as a number
// (form-encoded answers, and providers that quote it); anything negative or non-numeric is a
// bad answer rather than a guess.
function readExpiresIn(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return Math.floor(value);
  if (typeof value === "string" && /^\d+$/.test(value.trim())) return Number(value.trim());
  throw badAnswer("expires_in is not a non-negative number of seconds");
}

function optionalString(value: unknown, name: string): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw badAnswer(`${name} is not a string`);
  return value;
}

// RFC 6749 §3.3: scope is space-delimited. Providers that join scopes with their own separator
// in requests (Slack: ",") do so in answers too, and some answer with commas even though they
// take spaces (LinkedIn), so commas always separate as well: no real scope contains one.
// Some send an array.
function readScopes(value: unknown, separator: string): string[] | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value) && value.every((s) => typeof s === "string")) return value.filter(Boolean);
  if (typeof value !== "string") throw badAnswer("scope is not a string");
  return value
    .split(/[\s,]+/)
    .flatMap((part) => (separator.trim() ? part.split(separator) : [part]))
    .filter(Boolean);
}

/** The TokenSet of an answer oauth4webapi has validated (its fields are the normalised ones). */
export function toTokenSet(answer: TokenEndpointResponse): TokenSet {
  return {
    accessToken: answer.access_token,
    tokenType: "Bearer",
    refreshToken: answer.refresh_token ?? null,
    idToken: answer.id_token ?? null,
    expiresIn: typeof answer.expires_in === "number" ? answer.expires_in : null,
    scopes: typeof answer.scope === "string" ? answer.scope.split(" ").filter(Boolean) : null,
  };
}
