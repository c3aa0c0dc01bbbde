// The client of SPEC §8: one method per endpoint of SPEC §4, with only `fetch` underneath.
import { ConnectedAppsError, ConnectedAppsNetworkError, errorFromResponse } from "./errors.ts";
import type {
  App,
  ConnectSession,
  Connection,
  ConnectionStatus,
  CreateAppInput,
  CreateConnectSessionInput,
  Event,
  ListEventsQuery,
  ListOf,
  ProviderMetadata,
  Template,
  Token,
  UpdateAppInput,
} from "./types.ts";

export interface ConnectedAppsOptions {
  /** Where the service runs, e.g. http://localhost:8000 (a path prefix is kept). */
  baseUrl: string;
  /** An API key: `connected-apps api-keys create --name my-app`. */
  apiKey: string;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | undefined>;

interface Call {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  body?: unknown;
}

const seg = encodeURIComponent;

export class ConnectedApps {
  readonly #base: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;

  constructor(opts: ConnectedAppsOptions) {
    let base: URL;
    try {
      base = new URL(opts.baseUrl);
    } catch {
      throw new TypeError(`ConnectedApps: baseUrl "${opts.baseUrl}" is not a URL`);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError(`ConnectedApps: baseUrl must be http(s), not ${base.protocol}`);
    }
    if (!opts.apiKey) throw new TypeError("ConnectedApps: apiKey is required");
    this.#base = `${base.origin}${base.pathname.replace(/\/+$/, "")}/api/v1`;
    this.#apiKey = opts.apiKey;
    // The global fetch must not be called as a method of this object.
    this.#fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  readonly apps = {
    list: (): Promise<ListOf<App>> => this.#json({ method: "GET", path: "/apps" }),
    get: (appId: string): Promise<App> => this.#json({ method: "GET", path: `/apps/${seg(appId)}` }),
    create: (input: CreateAppInput): Promise<App> => this.#json({ method: "POST", path: "/apps", body: input }),
    update: (appId: string, patch: UpdateAppInput): Promise<App> =>
      this.#json({ method: "PATCH", path: `/apps/${seg(appId)}`, body: patch }),
    /** Also revokes and deletes the app's connections. */
    delete: (appId: string): Promise<void> => this.#json({ method: "DELETE", path: `/apps/${seg(appId)}` }),
    /** A token of the app itself, from the client-credentials grant. */
    token: (appId: string): Promise<Token> => this.#json({ method: "GET", path: `/apps/${seg(appId)}/token` }),
  };

  readonly templates = {
    list: (): Promise<ListOf<Template>> => this.#json({ method: "GET", path: "/templates" }),
  };

  /** Reads a provider's metadata from an issuer or a .well-known URL, without saving anything. */
  discovery(url: string): Promise<ProviderMetadata> {
    return this.#json({ method: "POST", path: "/discovery", body: { url } });
  }

  readonly connectSessions = {
    /** A single-use link that connects `userId`; send the user's browser to `url`. */
    create: (input: CreateConnectSessionInput): Promise<ConnectSession> =>
      this.#json({ method: "POST", path: "/connect-sessions", body: input }),
  };

  readonly connections = {
    list: (appId: string, query: { status?: ConnectionStatus } = {}): Promise<ListOf<Connection>> =>
      this.#json({ method: "GET", path: `/apps/${seg(appId)}/connections`, query: { status: query.status } }),
    /** Throws ConnectedAppsError `not_connected` when the user has no connection. */
    get: (appId: string, userId: string): Promise<Connection> =>
      this.#json({ method: "GET", path: `/apps/${seg(appId)}/connections/${seg(userId)}` }),
    /** A token valid for at least `minValidity` seconds (server default 60), refreshed first if needed. */
    token: (appId: string, userId: string, opts: { minValidity?: number } = {}): Promise<Token> =>
      this.#json({
        method: "GET",
        path: `/apps/${seg(appId)}/connections/${seg(userId)}/token`,
        query: { minValidity: opts.minValidity },
      }),
    /** Revokes at the provider when it can, then deletes. */
    delete: (appId: string, userId: string): Promise<void> =>
      this.#json({ method: "DELETE", path: `/apps/${seg(appId)}/connections/${seg(userId)}` }),
  };

  readonly events = {
    /** Oldest first; pass the last id as `after` for the next page. */
    list: (query: ListEventsQuery = {}): Promise<ListOf<Event>> =>
      this.#json({ method: "GET", path: "/events", query: { ...query } }),
  };

  /**
   * Calls the provider's API as the user: `path` (with its query) is appended to the app's
   * apiBaseUrl and the user's token is added by the service. Answers the raw Response, whatever
   * its status: the provider's errors are the caller's to read. Throws only when the service
   * cannot be reached.
   */
  async proxy(appId: string, userId: string, path: string, init: RequestInit = {}): Promise<Response> {
    const url = `${this.#base}/proxy/${seg(appId)}/${seg(userId)}/${path.replace(/^\/+/, "")}`;
    const headers = new Headers(init.headers);
    // The Authorization header to the service is the API key; the service puts the user's own.
    headers.set("authorization", `Bearer ${this.#apiKey}`);
    return this.#send(init.method ?? "GET", url, { ...init, headers });
  }

  async #send(method: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(url, { ...init, method });
    } catch (cause) {
      throw new ConnectedAppsNetworkError(method, url, cause);
    }
  }

  async #json<T>(call: Call): Promise<T> {
    let url = `${this.#base}${call.path}`;
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) params.set(name, String(value));
    }
    if (params.size > 0) url += `?${params}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#apiKey}`, accept: "application/json" };
    if (call.body !== undefined) headers["content-type"] = "application/json";
    const res = await this.#send(call.method, url, {
      headers,
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    });
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ConnectedAppsError({
        code: "internal_error",
        status: res.status,
        detail: `the service answered ${call.method} ${call.path} with ${res.status} but not JSON`,
      });
    }
  }
}
