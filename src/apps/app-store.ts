// AppStore: the apps table. Rows hold the client secret sealed; this module never opens it.
import type { Kysely } from "kysely";
import type { AppsTable, Database } from "../store/schema.ts";

export type TokenEndpointAuthMethod = "client_secret_basic" | "client_secret_post" | "none";
export type PkceMode = "auto" | "S256" | "off";

/** A Connected App as the services see it. */
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
  /** Sealed with the keyring, bound to (apps, id, client_secret); open with openClientSecret. */
  clientSecretSealed: string | null;
  scopes: string[];
  extraParams: Record<string, string>;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  pkce: PkceMode;
  apiBaseUrl: string | null;
  scopeSeparator: string;
  tokenResponsePath: string | null;
  defaultExpiresIn: number | null;
  tokenRequestFormat: "form" | "json";
  /** From discovery: code_challenge_methods_supported (null: not advertised). */
  codeChallengeMethodsSupported: string[] | null;
  /** From discovery: authorization_response_iss_parameter_supported (RFC 9207 §3). */
  issParameterSupported: boolean;
  /** From discovery: token_endpoint_auth_methods_supported (null: not advertised). */
  tokenEndpointAuthMethodsSupported: string[] | null;
  createdAt: number;
  updatedAt: number;
}

/** An app with nothing set but its id and name: the defaults of SPEC §4. */
export function blankApp(id: string, name: string, now: number): App {
  return {
    id,
    name,
    template: null,
    discoveryUrl: null,
    issuer: null,
    authorizationEndpoint: null,
    tokenEndpoint: null,
    revocationEndpoint: null,
    userinfoEndpoint: null,
    introspectionEndpoint: null,
    jwksUri: null,
    clientId: null,
    clientSecretSealed: null,
    scopes: [],
    extraParams: {},
    tokenEndpointAuthMethod: "none",
    pkce: "auto",
    apiBaseUrl: null,
    scopeSeparator: " ",
    tokenResponsePath: null,
    defaultExpiresIn: null,
    tokenRequestFormat: "form",
    codeChallengeMethodsSupported: null,
    issParameterSupported: false,
    tokenEndpointAuthMethodsSupported: null,
    createdAt: now,
    updatedAt: now,
  };
}

const json = <T>(text: string | null): T | null => (text == null ? null : (JSON.parse(text) as T));

export function rowToApp(r: AppsTable): App {
  return {
    id: r.id,
    name: r.name,
    template: r.template,
    discoveryUrl: r.discovery_url,
    issuer: r.issuer,
    authorizationEndpoint: r.authorization_endpoint,
    tokenEndpoint: r.token_endpoint,
    revocationEndpoint: r.revocation_endpoint,
    userinfoEndpoint: r.userinfo_endpoint,
    introspectionEndpoint: r.introspection_endpoint,
    jwksUri: r.jwks_uri,
    clientId: r.client_id,
    clientSecretSealed: r.client_secret,
    scopes: json<string[]>(r.scopes) ?? [],
    extraParams: json<Record<string, string>>(r.extra_params) ?? {},
    tokenEndpointAuthMethod: r.token_endpoint_auth_method as TokenEndpointAuthMethod,
    pkce: r.pkce as PkceMode,
    apiBaseUrl: r.api_base_url,
    scopeSeparator: r.scope_separator,
    tokenResponsePath: r.token_response_path,
    defaultExpiresIn: r.default_expires_in,
    tokenRequestFormat: r.token_request_format as "form" | "json",
    codeChallengeMethodsSupported: json<string[]>(r.code_challenge_methods),
    issParameterSupported: r.iss_parameter_supported === 1,
    tokenEndpointAuthMethodsSupported: json<string[]>(r.token_endpoint_auth_methods),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function appToRow(a: App): AppsTable {
  return {
    id: a.id,
    name: a.name,
    template: a.template,
    discovery_url: a.discoveryUrl,
    issuer: a.issuer,
    authorization_endpoint: a.authorizationEndpoint,
    token_endpoint: a.tokenEndpoint,
    revocation_endpoint: a.revocationEndpoint,
    userinfo_endpoint: a.userinfoEndpoint,
    introspection_endpoint: a.introspectionEndpoint,
    jwks_uri: a.jwksUri,
    client_id: a.clientId,
    client_secret: a.clientSecretSealed,
    scopes: JSON.stringify(a.scopes),
    extra_params: JSON.stringify(a.extraParams),
    token_endpoint_auth_method: a.tokenEndpointAuthMethod,
    pkce: a.pkce,
    api_base_url: a.apiBaseUrl,
    scope_separator: a.scopeSeparator,
    token_response_path: a.tokenResponsePath,
    default_expires_in: a.defaultExpiresIn,
    token_request_format: a.tokenRequestFormat,
    code_challenge_methods: a.codeChallengeMethodsSupported ? JSON.stringify(a.codeChallengeMethodsSupported) : null,
    iss_parameter_supported: a.issParameterSupported ? 1 : 0,
    token_endpoint_auth_methods: a.tokenEndpointAuthMethodsSupported ? JSON.stringify(a.tokenEndpointAuthMethodsSupported) : null,
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

export class AppStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(id: string): Promise<App | undefined> {
    const row = await this.db.selectFrom("apps").selectAll().where("id", "=", id).executeTakeFirst();
    return row && rowToApp(row);
  }

  async list(): Promise<App[]> {
    const rows = await this.db.selectFrom("apps").selectAll().orderBy("name").orderBy("id").execute();
    return rows.map(rowToApp);
  }

  /** Inserts; false when the id is taken. */
  async insert(app: App): Promise<boolean> {
    const res = await this.db
      .insertInto("apps")
      .values(appToRow(app))
      .onConflict((oc) => oc.column("id").doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async replace(app: App): Promise<void> {
    const { id, created_at: _created, ...rest } = appToRow(app);
    await this.db.updateTable("apps").set(rest).where("id", "=", id).execute();
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom("apps").where("id", "=", id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }
}
