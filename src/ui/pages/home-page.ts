// `/`: the apps this user may connect and the connections they hold (SPEC §5).
import type { App } from "../../apps/app-store.ts";
import type { SignedIn } from "../../accounts/web-session.ts";
import type { Connection } from "../../connections/connection-service.ts";
import { html, type SafeHtml } from "../html.ts";
import { layout, notice } from "../layout.ts";
import { connectButton, formatTime, initial } from "./fragments.ts";

export interface HomeView {
  signedIn: SignedIn;
  apps: Array<{ app: App; notReady: string | null }>;
  connections: Connection[];
  flash: SafeHtml | null;
}

function accountLabel(c: Connection): string {
  const { email, name, sub } = c.account;
  if (email && name) return `${name} <${email}>`;
  return email ?? name ?? sub ?? "unknown account";
}

function connectionItem(view: HomeView, c: Connection): SafeHtml {
  const appName = view.apps.find((a) => a.app.id === c.appId)?.app.name ?? c.appId;
  const headingId = `conn-${c.appId}`;
  const needsReconnect = c.status === "needs_reconnect";
  return html`<li aria-labelledby="${headingId}">
  <span class="avatar" aria-hidden="true">${initial(appName)}</span>
  <div class="grow">
    <h3 id="${headingId}">${appName}
      <span class="status ${c.status}">${needsReconnect ? "Needs reconnecting" : "Connected"}</span></h3>
    ${needsReconnect
      ? html`<p class="muted">This connection stopped working${c.lastError ? html`: <span class="mono">${c.lastError}</span>` : null}. Reconnect to use it again.</p>`
      : null}
    <dl class="facts">
      <dt>Account</dt><dd>${accountLabel(c)}</dd>
      <dt>Scopes</dt><dd>${c.scopes.length ? html`<span class="mono">${c.scopes.join(" ")}</span>` : "none reported"}</dd>
      <dt>Expires</dt><dd>${c.expiresAt ? formatTime(c.expiresAt) : "does not expire"}${c.expiresAt ? html` <span class="muted">(renewed automatically)</span>` : null}</dd>
    </dl>
  </div>
  <div class="actions">
    ${needsReconnect ? connectButton(c.appId, "/", "Reconnect", { primary: true }) : null}
    <form method="post" action="/connections/${c.appId}/disconnect" class="inline">
      <input type="hidden" name="_csrf" value="${view.signedIn.session.csrfToken}">
      <button type="submit" class="button danger">Disconnect</button>
    </form>
  </div>
</li>`;
}

function appItem(view: HomeView, entry: { app: App; notReady: string | null }): SafeHtml {
  const { app, notReady } = entry;
  const connected = view.connections.some((c) => c.appId === app.id);
  return html`<li>
  <span class="avatar" aria-hidden="true">${initial(app.name)}</span>
  <div class="grow">
    <h3>${app.name}${connected ? html` <span class="status active">Connected</span>` : null}${notReady ? html` <span class="status not-ready">Not ready</span>` : null}</h3>
    ${notReady ? html`<p class="muted">Cannot be connected yet: ${notReady}.</p>` : null}
  </div>
  <div class="actions">
    ${view.signedIn.user.isAdmin ? html`<a class="button ghost" href="/apps/${app.id}">Settings</a>` : null}
    ${notReady ? null : connectButton(app.id, "/", `Connect to ${app.name}`, { primary: !connected })}
  </div>
</li>`;
}

export function homePage(view: HomeView): string {
  const isAdmin = view.signedIn.user.isAdmin;
  const connectable = view.apps.filter((a) => isAdmin || a.notReady === null);
  return layout(
    { title: "Connections", user: { user: view.signedIn.user, csrfToken: view.signedIn.session.csrfToken } },
    html`<div class="page-head">
  <div><h1>Connections</h1><p class="lead">Connect your accounts once; the service keeps them working for the applications you use.</p></div>
  ${isAdmin ? html`<a class="button secondary" href="/apps/new">New app</a>` : null}
</div>
${view.flash}
<section class="card" aria-labelledby="connections-title">
  <h2 id="connections-title">Your connections</h2>
  ${view.connections.length
    ? html`<ul class="list">${view.connections.map((c) => connectionItem(view, c))}</ul>`
    : html`<p class="empty">You have not connected any account yet. Pick an app below.</p>`}
</section>
<section class="card" aria-labelledby="apps-title">
  <h2 id="apps-title">Apps</h2>
  ${connectable.length
    ? html`<ul class="list">${connectable.map((a) => appItem(view, a))}</ul>`
    : html`<p class="empty">${isAdmin ? html`No app is registered yet. <a href="/apps/new">Register the first one</a>.` : "No app is available yet. Ask an administrator to register one."}</p>`}
</section>`,
  );
}

/** The banner for `?connected=`, `?error=` (set by the connect flow) and `?disconnected=`. */
export function homeFlash(query: Record<string, unknown>, nameOf: (appId: string) => string): SafeHtml | null {
  const one = (k: string) => (typeof query[k] === "string" ? (query[k] as string) : undefined);
  const connected = one("connected");
  if (connected) return notice("success", `Connected to ${nameOf(connected)}.`);
  const disconnected = one("disconnected");
  if (disconnected) return notice("success", `Disconnected from ${nameOf(disconnected)}.`);
  const error = one("error");
  if (error === "access_denied") return notice("error", "Access was not allowed at the provider, so nothing was connected. Connect again and allow access if you meant to.");
  if (error) return notice("error", html`The connection was not made (<code>${error.slice(0, 100)}</code>). Try again; if it keeps failing, tell an administrator.`);
  return null;
}
