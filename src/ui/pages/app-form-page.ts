// The Connected App form (SPEC §5), for /apps/new and /apps/{appId}. Inputs carry the exact
// accessible names outside tests look for; each error sits under its field and is tied to it with
// aria-describedby. The client secret is never written into the page: only whether one is set.
import type { App } from "../../apps/app-store.ts";
import type { SignedIn } from "../../accounts/web-session.ts";
import type { Connection } from "../../connections/connection-service.ts";
import type { FieldErrors, FormValues, TextField } from "../app-form-input.ts";
import { html, jsonScript, type SafeHtml } from "../html.ts";
import { layout, notice } from "../layout.ts";
import { connectButton, formatTime } from "./fragments.ts";

export interface RecentEvent {
  type: string;
  userId: string | null;
  createdAt: number;
}

/** A template as the picker needs it: its defaults, and each parameter's default and meaning. */
export interface PickerTemplate {
  id: string;
  name: string;
  docsUrl: string;
  params: Array<{ name: string; default: string | null; description: string }>;
  defaults: Record<string, unknown>;
}

export interface AppFormView {
  signedIn: SignedIn;
  /** Undefined on /apps/new. */
  app?: App | undefined;
  redirectUri?: string | undefined;
  values: FormValues;
  errors: FieldErrors;
  flash?: SafeHtml | null;
  templates: PickerTemplate[];
  connections: Connection[];
  events: RecentEvent[];
}

interface FieldSpec {
  name: TextField;
  label: string;
  type?: "text" | "url" | "number";
  hint?: string;
  multiline?: boolean;
  placeholder?: string;
  autocomplete?: string;
}

function describedBy(id: string, hint: boolean, error: boolean): SafeHtml | null {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return ids ? html` aria-describedby="${ids}"` : null;
}

function field(view: AppFormView, spec: FieldSpec): SafeHtml {
  const error = view.errors[spec.name];
  const value = view.values[spec.name];
  const attrs = html`id="f-${spec.name}" name="${spec.name}"${describedBy(`f-${spec.name}`, !!spec.hint, !!error)}${error ? html` aria-invalid="true"` : null}${spec.placeholder ? html` placeholder="${spec.placeholder}"` : null}`;
  return html`<div class="field">
  <label for="f-${spec.name}">${spec.label}</label>
  ${spec.multiline
    ? html`<textarea ${attrs} rows="3" spellcheck="false">${value}</textarea>`
    : html`<input ${attrs} type="${spec.type ?? "text"}" value="${value}" spellcheck="false" autocomplete="${spec.autocomplete ?? "off"}">`}
  ${spec.hint ? html`<p class="hint" id="f-${spec.name}-hint">${spec.hint}</p>` : null}
  ${error ? html`<p class="error" id="f-${spec.name}-error">${error}</p>` : null}
</div>`;
}

function select(view: AppFormView, name: TextField, label: string, options: Array<[string, string]>, hint?: string): SafeHtml {
  const error = view.errors[name];
  return html`<div class="field">
  <label for="f-${name}">${label}</label>
  <select id="f-${name}" name="${name}"${describedBy(`f-${name}`, !!hint, !!error)}>
    ${options.map(([v, text]) => html`<option value="${v}"${view.values[name] === v ? html` selected` : null}>${text}</option>`)}
  </select>
  ${hint ? html`<p class="hint" id="f-${name}-hint">${hint}</p>` : null}
  ${error ? html`<p class="error" id="f-${name}-error">${error}</p>` : null}
</div>`;
}

function templatePicker(view: AppFormView): SafeHtml {
  const error = view.errors.template;
  return html`<div class="field">
  <label for="f-template">Start from a template</label>
  <select id="f-template" name="template" aria-describedby="f-template-hint${error ? " f-template-error" : ""}">
    <option value="">None: enter the provider's settings</option>
    ${view.templates.map((t) => html`<option value="${t.id}"${view.values.template === t.id ? html` selected` : null}>${t.name}</option>`)}
  </select>
  <p class="hint" id="f-template-hint">Fills the form with a provider's endpoints, scopes and quirks; you can change any of it.</p>
  ${error ? html`<p class="error" id="f-template-error">${error}</p>` : null}
  <div id="template-params">${(view.templates.find((t) => t.id === view.values.template)?.params ?? []).map(
    (p) => html`<div class="field"><label for="tp-${p.name}">Template parameter ${p.name}</label><input id="tp-${p.name}" name="templateParam.${p.name}" type="text" data-param="${p.name}" value="${view.values.templateParams[p.name] ?? ""}" placeholder="${p.default ?? ""}" aria-describedby="tp-${p.name}-hint"><p class="hint" id="tp-${p.name}-hint">${p.description}</p></div>`,
  )}</div>
</div>
${jsonScript("templates-data", view.templates)}`;
}

function clientSecretField(view: AppFormView): SafeHtml {
  const error = view.errors.clientSecret;
  const isSet = view.app?.clientSecretSealed != null;
  const hint = isSet ? "A secret is set and is never shown. Leave this blank to keep it, or type a new one to replace it." : "From the provider's app registration. Leave blank for a public client.";
  return html`<div class="field">
  <label for="f-clientSecret">Client Secret</label>
  <input id="f-clientSecret" name="clientSecret" type="password" value="" autocomplete="new-password" aria-describedby="f-clientSecret-hint${error ? " f-clientSecret-error" : ""}"${isSet ? html` placeholder="••••••••  (set; blank keeps it)"` : null}>
  <p class="hint" id="f-clientSecret-hint">${isSet ? html`<span class="badge" id="secret-set">set</span> ` : null}${hint}</p>
  ${isSet ? html`<label class="checkbox"><input type="checkbox" name="clearClientSecret"> Remove the stored secret</label>` : null}
  ${error ? html`<p class="error" id="f-clientSecret-error">${error}</p>` : null}
</div>`;
}

function redirectSection(view: AppFormView, app: App, redirectUri: string): SafeHtml {
  return html`<section class="card" aria-labelledby="redirect-title">
  <h2 id="redirect-title">Register this at the provider</h2>
  <div class="field">
    <label for="redirect-uri">Redirect URI</label>
    <div class="input-row">
      <input id="redirect-uri" type="text" readonly value="${redirectUri}" aria-describedby="redirect-hint">
      <button type="button" class="button secondary" data-copy="redirect-uri">Copy</button>
    </div>
    <p class="hint" id="redirect-hint">Add exactly this address as an authorized redirect (callback) URI in the app registration at the provider. <span role="status" id="copy-status"></span></p>
  </div>
  <div class="actions">${connectButton(app.id, `/apps/${app.id}`, `Connect to ${app.name}`, { newTab: true })}</div>
  <p class="hint">Connect opens the provider's sign-in in a new tab, so you can test the settings without leaving this page.</p>
</section>`;
}

function connectionsSection(view: AppFormView): SafeHtml {
  return html`<section class="card" aria-labelledby="app-connections-title">
  <h2 id="app-connections-title">Connections</h2>
  ${view.connections.length
    ? html`<table><thead><tr><th scope="col">User</th><th scope="col">Account</th><th scope="col">Status</th><th scope="col">Expires</th></tr></thead><tbody>
      ${view.connections.map((c) => html`<tr><td class="mono">${c.userId}</td><td>${c.account.email ?? c.account.name ?? c.account.sub ?? ""}</td><td><span class="status ${c.status}">${c.status === "active" ? "Connected" : "Needs reconnecting"}</span></td><td>${c.expiresAt ? formatTime(c.expiresAt) : "never"}</td></tr>`)}
    </tbody></table>`
    : html`<p class="empty">Nobody has connected this app yet.</p>`}
</section>
<section class="card" aria-labelledby="app-events-title">
  <h2 id="app-events-title">Recent events</h2>
  ${view.events.length
    ? html`<table><thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">User</th></tr></thead><tbody>
      ${view.events.map((e) => html`<tr><td>${formatTime(new Date(e.createdAt).toISOString())}</td><td class="mono">${e.type}</td><td class="mono">${e.userId ?? ""}</td></tr>`)}
    </tbody></table>`
    : html`<p class="empty">No events yet.</p>`}
</section>`;
}

const LABELS: Record<string, string> = {
  name: "Name",
  discoveryUrl: "OpenID Configuration URL",
  authorizationEndpoint: "Authorization URI",
  tokenEndpoint: "Token URI",
  revocationEndpoint: "Revocation URI",
  userinfoEndpoint: "Userinfo URI",
  clientId: "Client ID",
  clientSecret: "Client Secret",
  scopes: "Scopes",
  extraParams: "Extra parameters",
  apiBaseUrl: "API base URL",
  template: "Template",
  issuer: "Issuer",
  jwksUri: "JWKS URI",
  introspectionEndpoint: "Introspection URI",
  tokenEndpointAuthMethod: "Client authentication",
  pkce: "PKCE",
  scopeSeparator: "Scope separator",
  tokenResponsePath: "Path of the tokens in the answer",
  defaultExpiresIn: "Assumed lifetime",
  tokenRequestFormat: "Token request encoding",
};

/** The error summary above the form: each problem a link to its field (keyboard users jump there). */
function errorSummary(errors: FieldErrors): SafeHtml | null {
  const fields = Object.entries(errors).filter(([k]) => k !== "form");
  if (fields.length === 0 && !errors.form) return null;
  return notice(
    "error",
    html`<div class="error-summary">${errors.form ?? "Nothing was saved. Fix these fields:"}${fields.length
      ? html`<ul>${fields.map(([k, message]) => html`<li><a href="#f-${k}">${LABELS[k] ?? k}</a>: ${message}</li>`)}</ul>`
      : null}</div>`,
  );
}

export function appFormPage(view: AppFormView): string {
  const app = view.app;
  const action = app ? `/apps/${app.id}` : "/apps/new";
  const f = (spec: FieldSpec) => field(view, spec);
  return layout(
    { title: app ? app.name : "New Connected App", user: { user: view.signedIn.user, csrfToken: view.signedIn.session.csrfToken }, scripts: ["app-form.js"] },
    html`<div class="page-head">
  <div>
    <h1>${app ? app.name : "New Connected App"}</h1>
    <p class="lead">${app ? html`App id <code>${app.id}</code>` : "Register an OAuth 2.0 / OpenID Connect client so people can connect their accounts."}</p>
  </div>
  <a class="button ghost" href="/">Back to connections</a>
</div>
${view.flash ?? null}
${errorSummary(view.errors)}
${app && view.redirectUri ? redirectSection(view, app, view.redirectUri) : null}
<form method="post" action="${action}" class="card" id="app-form" novalidate>
  <input type="hidden" name="_csrf" value="${view.signedIn.session.csrfToken}">
  <fieldset>
    <legend>Provider</legend>
    ${app ? null : templatePicker(view)}
    ${f({ name: "name", label: "Name", hint: app ? undefined : "Shown on the Connect button; the app id is derived from it." } as FieldSpec)}
    <div class="field">
      <label for="f-discoveryUrl">OpenID Configuration URL</label>
      <div class="input-row">
        <input id="f-discoveryUrl" name="discoveryUrl" type="url" value="${view.values.discoveryUrl}" spellcheck="false" autocomplete="off"
          placeholder="https://accounts.example.com/.well-known/openid-configuration"
          aria-describedby="f-discoveryUrl-hint${view.errors.discoveryUrl ? " f-discoveryUrl-error" : ""}"${view.errors.discoveryUrl ? html` aria-invalid="true"` : null}>
        <button type="submit" class="button secondary" name="_action" value="discover" id="discover-button" formnovalidate>Get OpenID Configuration</button>
      </div>
      <p class="hint" id="f-discoveryUrl-hint">An issuer, or its <code>/.well-known/openid-configuration</code> URL. Fills the endpoints below without saving.</p>
      ${view.errors.discoveryUrl ? html`<p class="error" id="f-discoveryUrl-error">${view.errors.discoveryUrl}</p>` : null}
      <div class="discovery-result" id="discovery-result" role="status" aria-live="polite"></div>
    </div>
    <div class="grid-2">
      ${f({ name: "authorizationEndpoint", label: "Authorization URI", type: "url" })}
      ${f({ name: "tokenEndpoint", label: "Token URI", type: "url" })}
      ${f({ name: "revocationEndpoint", label: "Revocation URI", type: "url" })}
      ${f({ name: "userinfoEndpoint", label: "Userinfo URI", type: "url" })}
    </div>
  </fieldset>
  <fieldset>
    <legend>Client</legend>
    <div class="grid-2">
      ${f({ name: "clientId", label: "Client ID" })}
      ${clientSecretField(view)}
    </div>
    ${f({ name: "scopes", label: "Scopes", hint: "Separated by spaces, e.g. openid email profile offline_access." })}
    ${f({ name: "extraParams", label: "Extra parameters", multiline: true, hint: "Added to the authorization request: one key=value a line, e.g. access_type=offline.", placeholder: "prompt=consent" })}
    ${f({ name: "apiBaseUrl", label: "API base URL", type: "url", hint: "Where proxied API calls go, e.g. https://www.googleapis.com." })}
  </fieldset>
  <details class="advanced"${["issuer", "jwksUri", "introspectionEndpoint", "tokenEndpointAuthMethod", "pkce", "scopeSeparator", "tokenResponsePath", "defaultExpiresIn", "tokenRequestFormat"].some((k) => k in view.errors) ? html` open` : null}>
    <summary>Advanced settings</summary>
    <div class="grid-2">
      ${f({ name: "issuer", label: "Issuer", hint: "Checked against ID tokens and the RFC 9207 iss parameter." })}
      ${f({ name: "jwksUri", label: "JWKS URI", type: "url" })}
      ${f({ name: "introspectionEndpoint", label: "Introspection URI", type: "url" })}
      ${select(view, "tokenEndpointAuthMethod", "Client authentication", [["", "Automatic"], ["client_secret_basic", "client_secret_basic (HTTP Basic)"], ["client_secret_post", "client_secret_post (in the body)"], ["none", "none (public client)"]])}
      ${select(view, "pkce", "PKCE", [["auto", "Automatic (when the provider supports S256)"], ["S256", "Always S256"], ["off", "Off"]])}
      ${select(view, "tokenRequestFormat", "Token request encoding", [["form", "Form (standard)"], ["json", "JSON"]])}
      ${f({ name: "scopeSeparator", label: "Scope separator", hint: "A space unless the provider wants another, e.g. a comma." })}
      ${f({ name: "tokenResponsePath", label: "Path of the tokens in the answer", hint: "For answers that nest the tokens, e.g. authed_user." })}
      ${f({ name: "defaultExpiresIn", label: "Assumed lifetime (seconds)", type: "number", hint: "When the provider's answer has no expires_in." })}
    </div>
  </details>
  <div class="form-actions">
    <button type="submit" class="button" name="_action" value="save">Save</button>
    <a href="/" class="button ghost">Cancel</a>
  </div>
</form>
${app ? connectionsSection(view) : null}`,
  );
}
