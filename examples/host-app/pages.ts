// The host app's HTML: deliberately plain. Everything interpolated goes through `esc`.
import type { App, Connection, WebhookEvent } from "../../src/sdk/index.ts";
import type { HostUser } from "./users.ts";

export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Host App</title>
<style>body{font:16px system-ui;margin:2rem auto;max-width:48rem}section{margin:1.5rem 0}pre{background:#f4f4f4;padding:1rem;overflow:auto}.notice{padding:.5rem;background:#eef}</style>
</head><body><h1>${esc(title)}</h1>${body}</body></html>`;
}

export function loginPage(error?: string): string {
  return layout(
    "Host App: sign in",
    `${error ? `<p role="alert">${esc(error)}</p>` : ""}
<form method="post" action="/login">
<p><label>Email <input name="email" type="email" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<button type="submit">Sign in</button></form>`,
  );
}

export interface HomeView {
  user: HostUser;
  csrf: string;
  apps: App[];
  connections: Connection[];
  events: WebhookEvent[];
  notice: string | null;
}

const post = (action: string, csrf: string, label: string, extra = "") =>
  `<form method="post" action="${esc(action)}" style="display:inline"><input type="hidden" name="csrf" value="${esc(csrf)}">${extra}<button type="submit">${esc(label)}</button></form>`;

export function homePage(v: HomeView): string {
  const byApp = new Map(v.connections.map((c) => [c.appId, c]));
  const apps = v.apps
    .map((app) => {
      const c = byApp.get(app.id);
      const path = `/connect/${encodeURIComponent(app.id)}`;
      if (!c) return `<li>${esc(app.name)}: not connected ${post(path, v.csrf, `Connect to ${app.name}`)}</li>`;
      const account = c.account.email ?? c.account.name ?? c.account.sub ?? "unknown account";
      const call = `/call/${encodeURIComponent(app.id)}`;
      return `<li data-app="${esc(app.id)}">${esc(app.name)}: <strong>${esc(c.status)}</strong> as ${esc(account)}
${c.status === "needs_reconnect" ? post(path, v.csrf, `Reconnect to ${app.name}`) : ""}
${post(`/disconnect/${encodeURIComponent(app.id)}`, v.csrf, `Disconnect ${app.name}`)}
${post(call, v.csrf, `Call ${app.name}`, `<label>API path <input name="path" value="/"></label> `)}</li>`;
    })
    .join("\n");
  const events = v.events.map((e) => `<li>${esc(e.createdAt)} <code>${esc(e.type)}</code> ${esc(e.data.appId ?? "")}</li>`).join("\n");
  return layout(
    "Host App",
    `<p>Signed in as ${esc(v.user.email)} ${post("/logout", v.csrf, "Sign out")}</p>
${v.notice ? `<p class="notice" role="status">${esc(v.notice)}</p>` : ""}
<section><h2>Connected apps</h2><ul>${apps || "<li>No apps registered at connected-apps yet.</li>"}</ul></section>
<section><h2>Webhooks received for you</h2><ul id="webhooks">${events || "<li>None yet.</li>"}</ul></section>`,
  );
}

export function callResultPage(appName: string, path: string, status: number, contentType: string, body: string): string {
  return layout(
    `${appName} answered ${status}`,
    `<p><code>${esc(path)}</code> (${esc(contentType)})</p><pre id="result">${esc(body)}</pre><p><a href="/">Back</a></p>`,
  );
}
