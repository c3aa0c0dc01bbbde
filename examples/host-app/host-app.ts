// A minimal host application (SPEC §8, issue 8): its own users and sign-in, "Connect to {name}"
// buttons that go through a connect session, a webhook receiver, and calls to the provider's
// API through the proxy, all with the SDK. node:http only, so every line is the integration.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  ConnectedApps,
  ConnectedAppsError,
  verifyWebhook,
  WebhookVerificationError,
  type Connection,
  type WebhookEvent,
} from "../../src/sdk/index.ts";
import { callResultPage, homePage, loginPage } from "./pages.ts";
import type { Accounts } from "./users.ts";

export interface HostAppOptions {
  /** The SDK client, with an API key of connected-apps. */
  ca: ConnectedApps;
  accounts: Accounts;
  /** Where this app is reached in the browser, e.g. http://localhost:3000 (connect returns here). */
  publicUrl: string;
  /** connected-apps' WEBHOOK_SECRET. */
  webhookSecret: string;
}

const COOKIE = "host_session";
const MAX_BODY = 256 * 1024;

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error("body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { location, ...headers });
  res.end();
}

/** A path segment, or undefined when its %-encoding is broken. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function createHostApp(opts: HostAppOptions): { server: Server; received: WebhookEvent[] } {
  const { ca, accounts } = opts;
  // Delivery is at least once: keep each event id once.
  const received: WebhookEvent[] = [];

  async function home(req: IncomingMessage, res: ServerResponse, url: URL) {
    const session = accounts.session(cookie(req, COOKIE));
    if (!session) return redirect(res, "/login");
    const { items: apps } = await ca.apps.list();
    const connections: Connection[] = [];
    for (const app of apps) {
      try {
        connections.push(await ca.connections.get(app.id, session.user.id));
      } catch (err) {
        if (!(err instanceof ConnectedAppsError && err.code === "not_connected")) throw err;
      }
    }
    // connected-apps adds connected=<appId> or error=<code> to returnTo after the flow.
    const connected = url.searchParams.get("connected");
    const error = url.searchParams.get("error");
    const notice = connected ? `Connected ${connected}.` : error ? `Connecting failed: ${error}.` : null;
    const events = received.filter((e) => e.data.userId === session.user.id);
    send(res, 200, homePage({ user: session.user, csrf: session.csrf, apps, connections, events, notice }));
  }

  async function form(req: IncomingMessage, res: ServerResponse): Promise<{ fields: URLSearchParams; userId: string } | null> {
    const session = accounts.session(cookie(req, COOKIE));
    const fields = new URLSearchParams((await readBody(req)).toString("utf8"));
    if (!session) {
      redirect(res, "/login");
      return null;
    }
    if (fields.get("csrf") !== session.csrf) {
      send(res, 403, "<p>Invalid form token; reload the page.</p>");
      return null;
    }
    return { fields, userId: session.user.id };
  }

  async function route(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", opts.publicUrl);
    const [, first, second] = url.pathname.split("/").map(decodeSegment);
    if (first === undefined) return send(res, 400, "<p>Bad path.</p>");
    const method = req.method ?? "GET";

    if (method === "GET" && url.pathname === "/") return home(req, res, url);
    if (method === "GET" && url.pathname === "/login") return send(res, 200, loginPage());
    if (method === "POST" && url.pathname === "/login") {
      const fields = new URLSearchParams((await readBody(req)).toString("utf8"));
      const sid = accounts.signIn(fields.get("email") ?? "", fields.get("password") ?? "");
      if (!sid) return send(res, 401, loginPage("Wrong email or password."));
      return redirect(res, "/", { "set-cookie": `${COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax` });
    }
    if (method === "POST" && url.pathname === "/logout") {
      const f = await form(req, res);
      if (!f) return;
      accounts.signOut(cookie(req, COOKIE));
      return redirect(res, "/login", { "set-cookie": `${COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0` });
    }

    // The one place connected-apps' signed webhooks arrive; verified on the raw bytes.
    if (method === "POST" && url.pathname === "/webhooks") {
      const raw = await readBody(req);
      let event: WebhookEvent;
      try {
        event = verifyWebhook(raw, req.headers["connected-apps-signature"], opts.webhookSecret);
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        res.writeHead(400, { "content-type": "text/plain" }).end(`refused: ${err.reason}`);
        return;
      }
      if (!received.some((e) => e.id === event.id)) received.push(event);
      res.writeHead(204).end();
      return;
    }

    if (method === "POST" && first === "connect" && second) {
      const f = await form(req, res);
      if (!f) return;
      // A single-use link for this user; their browser goes straight to the provider's consent.
      const session = await ca.connectSessions.create({ appId: second, userId: f.userId, returnTo: `${opts.publicUrl}/` });
      return redirect(res, session.url);
    }
    if (method === "POST" && first === "disconnect" && second) {
      const f = await form(req, res);
      if (!f) return;
      await ca.connections.delete(second, f.userId);
      return redirect(res, "/");
    }
    if (method === "POST" && first === "call" && second) {
      const f = await form(req, res);
      if (!f) return;
      const path = f.fields.get("path") || "/";
      const app = await ca.apps.get(second);
      // The provider's own answer, whatever its status; the service injected the user's token.
      const answer = await ca.proxy(second, f.userId, path, { headers: { accept: "application/json" } });
      const text = (await answer.text()).slice(0, 20_000);
      return send(res, 200, callResultPage(app.name, path, answer.status, answer.headers.get("content-type") ?? "", text));
    }
    send(res, 404, "<p>Not found. <a href=\"/\">Home</a></p>");
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      // An SDK error names the code and detail; nothing secret is in either.
      const message = err instanceof ConnectedAppsError ? `${err.code}: ${err.detail}` : "unexpected error";
      if (!(err instanceof ConnectedAppsError)) console.error(err);
      if (!res.headersSent) send(res, err instanceof ConnectedAppsError ? 502 : 500, `<p role="alert">connected-apps said ${message.replace(/[<>&]/g, "")}</p><p><a href="/">Back</a></p>`);
      else res.end();
    });
  });
  return { server, received };
}
