// The resources of SPEC §4 as plain TypeScript, so the published declarations need neither zod
// nor the server's sources. test/sdk/types.test.ts holds each of these equal to the server's
// schema (z.input for bodies, z.output for answers): a change to an endpoint that this file does
// not follow fails the type check, as Hono's typed client would.

/** The `code` of a problem document (src/errors/catalog.ts). */
export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "not_connected"
  | "needs_reconnect"
  | "provider_error"
  | "provider_unavailable"
  | "internal_error";

/** An RFC 9457 problem document as the API sends it. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
}

export interface ListOf<T> {
  items: T[];
}

export type TokenEndpointAuthMethod = "client_secret_basic" | "client_secret_post" | "none";
export type PkceMode = "auto" | "S256" | "off";
export type TokenRequestFormat = "form" | "json";

/** A Connected App as the API answers it: the client secret is write-only. */
export interface App {
  id: string;
  name: string;
  template: string | null;
  discoveryUrl: string | null;
  issuer: string | null;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  revocationEndpoint: string | null;
  userinfoEndpoint: string | null;
  introspectionEndpoint: string | null;
  jwksUri: string | null;
  clientId: string | null;
  hasClientSecret: boolean;
  scopes: string[];
  extraParams: Record<string, string>;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  pkce: PkceMode;
  apiBaseUrl: string | null;
  scopeSeparator: string;
  tokenResponsePath: string | null;
  defaultExpiresIn: number | null;
  tokenRequestFormat: TokenRequestFormat;
  redirectUri: string;
  createdAt: string;
  updatedAt: string;
}

/** The fields an admin sets on an app (all optional in a patch). */
export interface AppFields {
  name?: string;
  discoveryUrl?: string | null;
  issuer?: string | null;
  authorizationEndpoint?: string | null;
  tokenEndpoint?: string | null;
  revocationEndpoint?: string | null;
  userinfoEndpoint?: string | null;
  introspectionEndpoint?: string | null;
  jwksUri?: string | null;
  clientId?: string | null;
  clientSecret?: string | null;
  scopes?: string[];
  extraParams?: Record<string, string>;
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  pkce?: PkceMode;
  apiBaseUrl?: string | null;
  scopeSeparator?: string;
  tokenResponsePath?: string | null;
  defaultExpiresIn?: number | null;
  tokenRequestFormat?: TokenRequestFormat;
}

/** POST /api/v1/apps: the fields, optionally an id and a template with its parameters. */
export interface CreateAppInput extends AppFields {
  id?: string;
  template?: string;
  templateParams?: Record<string, string>;
}

/** PATCH /api/v1/apps/{appId}. */
export type UpdateAppInput = AppFields;

/** A built-in provider template (GET /api/v1/templates). */
export interface Template {
  id: string;
  name: string;
  docsUrl: string;
  params: string[];
  defaults: Record<string, unknown>;
}

/** What POST /api/v1/discovery answers; members the provider does not publish are null. */
export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: string | null;
  tokenEndpoint: string | null;
  revocationEndpoint: string | null;
  userinfoEndpoint: string | null;
  introspectionEndpoint: string | null;
  jwksUri: string | null;
  scopesSupported: string[] | null;
  codeChallengeMethodsSupported: string[] | null;
  tokenEndpointAuthMethodsSupported: string[] | null;
  authorizationResponseIssParameterSupported: boolean;
}

export interface CreateConnectSessionInput {
  appId: string;
  /** The host app's id for its user, up to 200 characters. */
  userId: string;
  /** Where the user lands after the flow, with `connected=<appId>` or `error=<code>` added. */
  returnTo?: string;
}

export interface ConnectSession {
  /** Open this in the user's browser; it is single use and expires at `expiresAt`. */
  url: string;
  expiresAt: string;
}

export type ConnectionStatus = "active" | "needs_reconnect";

export interface ProviderAccount {
  sub: string | null;
  email: string | null;
  name: string | null;
}

/** One user's connection to one app; tokens never appear here. */
export interface Connection {
  appId: string;
  userId: string;
  status: ConnectionStatus;
  scopes: string[];
  account: ProviderAccount;
  expiresAt: string | null;
  lastRefreshedAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/** An access token to call the provider with. */
export interface Token {
  accessToken: string;
  tokenType: string;
  expiresAt: string | null;
  scopes: string[];
}

export type EventType =
  | "connection.created"
  | "connection.needs_reconnect"
  | "connection.recovered"
  | "connection.deleted"
  | "key.rotated";

/** An event as a webhook carries it (SPEC §7): verifyWebhook answers this. */
export interface WebhookEvent {
  id: string;
  type: EventType;
  createdAt: string;
  data: { appId: string | null; userId: string | null; [member: string]: unknown };
}

/** How the webhook delivery of an event went. */
export interface EventDelivery {
  /** Deliveries tried so far. */
  attempts: number;
  /** The last attempt's outcome: an HTTP status, "timeout" or "network_error". */
  lastStatus: string | null;
  /** Null until the receiver answered 2xx. */
  deliveredAt: string | null;
  /** Null when nothing more will be tried. */
  nextAttemptAt: string | null;
}

/** A recorded event as GET /api/v1/events lists it: the webhook's members and its delivery. */
export interface Event extends WebhookEvent {
  delivery: EventDelivery;
}

export interface ListEventsQuery {
  appId?: string;
  userId?: string;
  type?: EventType;
  /** An event id: only events recorded after it (the last id of the previous page). */
  after?: string;
  /** Page size, 1 to 500 (server default 100). */
  limit?: number;
}
