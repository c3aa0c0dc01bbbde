// /apps/new and /apps/{appId}: the Connected App form (admins only), and /ui/discovery, the
// same-origin JSON endpoint behind its Get OpenID Configuration button.
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { SignedIn } from "../accounts/web-session.ts";
import { createApp, getApp, redirectUriFor, updateApp } from "../apps/app-service.ts";
import type { App } from "../apps/app-store.ts";
import { slugFromName } from "../apps/slug.ts";
import { listTemplates } from "../apps/templates/index.ts";
import { loadTemplates } from "../apps/templates/template-file.ts";
import { listConnections } from "../connections/connection-service.ts";
import type { Context } from "../context.ts";
import { discoverProvider } from "../discovery/discover.ts";
import type { ProviderMetadata } from "../discovery/provider-metadata.ts";
import { AppError } from "../errors/problem.ts";
import { createBodyFrom, emptyValues, fieldOf, patchBodyFrom, readPostedForm, valuesFromApp, type FieldErrors, type FormValues } from "./app-form-input.ts";
import { html } from "./html.ts";
import { notice } from "./layout.ts";
import { refusalPage } from "./pages/account-pages.ts";
import { appFormPage, type PickerTemplate } from "./pages/app-form-page.ts";
import { passesCsrf, requireAdmin, sendPage } from "./page-guard.ts";
import { recentEventsOfApp } from "./recent-events.ts";

/** What the admin reads when discovery fails: what went wrong, in words, with the detail. */
export function discoveryMessage(err: unknown): string | undefined {
  if (!(err instanceof AppError)) return undefined;
  switch (err.code) {
    case "invalid_request":
      return `This URL cannot be used: ${err.detail}`;
    case "provider_error":
      return `The address answered, but not with a valid OpenID configuration: ${err.detail}`;
    case "provider_unavailable":
      return `Could not reach the provider: ${err.detail}`;
    default:
      return undefined;
  }
}

/** An AppError from createApp/updateApp, beside the field its detail names ("field: message"). */
function errorsFromAppError(err: AppError): FieldErrors {
  if (err.code === "conflict") return { name: `${err.detail.replace(/^an app/, "An app")}. Choose another name.` };
  if (err.code === "provider_error" || err.code === "provider_unavailable") return { discoveryUrl: discoveryMessage(err)! };
  const match = /^([A-Za-z][A-Za-z.]*): (.*)$/s.exec(err.detail);
  return match ? { [fieldOf(match[1])]: match[2]! } : { form: err.detail };
}

/** Where the Connect button's new tab lands (`?connected=` or `?error=`, SPEC §5): what it means for the admin. */
function connectResult(app: App, query: Record<string, unknown>): ReturnType<typeof notice> | null {
  if (query.connected === app.id) return notice("success", `Connecting to ${app.name} worked: the connection is listed below.`);
  if (typeof query.error !== "string") return null;
  const code = query.error.slice(0, 64);
  if (code === "access_denied") return notice("error", html`Connecting to ${app.name} stopped: access was denied at the provider (<code>${code}</code>), perhaps by pressing Cancel.`);
  return notice(
    "error",
    html`Connecting to ${app.name} failed (<code>${code}</code>). Check the Client ID and Client Secret and the scopes, and that the provider has exactly the Redirect URI above registered for this client.`,
  );
}

function fillFromMetadata(values: FormValues, m: ProviderMetadata): number {
  const found: Array<[keyof FormValues & string, string | null]> = [
    ["issuer", m.issuer],
    ["authorizationEndpoint", m.authorizationEndpoint],
    ["tokenEndpoint", m.tokenEndpoint],
    ["revocationEndpoint", m.revocationEndpoint],
    ["userinfoEndpoint", m.userinfoEndpoint],
    ["introspectionEndpoint", m.introspectionEndpoint],
    ["jwksUri", m.jwksUri],
  ];
  let filled = 0;
  for (const [k, v] of found) {
    if (v) {
      (values as Record<string, unknown>)[k] = v;
      filled++;
    }
  }
  if (values.scopes === "" && m.scopesSupported?.includes("openid")) values.scopes = "openid";
  return filled;
}

export function appFormRoutes(ctx: Context): FastifyPluginAsync {
  // GET /api/v1/templates' list, plus each parameter's default and description (which that
  // list leaves out), so the picker can fill URLs before the admin types a parameter.
  const paramsOf = new Map(loadTemplates().map((t) => [t.id, t.params]));
  const templates: PickerTemplate[] = listTemplates().map((t) => ({
    ...t,
    params: (paramsOf.get(t.id) ?? []).map((p) => ({ name: p.name, default: p.default ?? null, description: p.description })),
  }));

  async function render(reply: FastifyReply, signedIn: SignedIn, app: App | undefined, values: FormValues, errors: FieldErrors, status: number, flash: ReturnType<typeof notice> | null = null) {
    return sendPage(
      reply,
      appFormPage({
        signedIn,
        app,
        redirectUri: app && redirectUriFor(ctx.config.publicUrl, app.id),
        values,
        errors,
        flash,
        templates,
        connections: app ? await listConnections(ctx, app.id) : [],
        events: app ? await recentEventsOfApp(ctx, app.id) : [],
      }),
      status,
    );
  }

  async function loadApp(reply: FastifyReply, signedIn: SignedIn, appId: string): Promise<App | undefined> {
    try {
      return await getApp(ctx, appId);
    } catch (err) {
      if (!(err instanceof AppError) || err.code !== "not_found") throw err;
      await sendPage(reply, refusalPage("No such app", `There is no Connected App with id "${appId}".`, signedIn), 404);
      return undefined;
    }
  }

  /** The no-script path of Get OpenID Configuration: the form comes back filled, nothing saved. */
  async function discoverInto(values: FormValues): Promise<{ errors: FieldErrors; flash: ReturnType<typeof notice> | null }> {
    if (values.discoveryUrl === "") return { errors: { discoveryUrl: "Enter the OpenID Configuration URL first." }, flash: null };
    try {
      const m = await discoverProvider(ctx, values.discoveryUrl);
      const filled = fillFromMetadata(values, m);
      return { errors: {}, flash: notice("info", html`Found the configuration of <code>${m.issuer}</code> and filled ${filled} endpoint fields. Nothing is saved until you press Save.`) };
    } catch (err) {
      const message = discoveryMessage(err);
      if (message === undefined) throw err;
      return { errors: { discoveryUrl: message }, flash: null };
    }
  }

  return async (app) => {
    app.get<{ Querystring: Record<string, unknown> }>("/apps/new", { schema: { hide: true } }, async (request, reply) => {
      const signedIn = await requireAdmin(ctx, request, reply);
      if (!signedIn) return reply;
      return render(reply, signedIn, undefined, emptyValues(), {}, 200);
    });

    app.post("/apps/new", { schema: { hide: true } }, async (request, reply) => {
      const signedIn = await requireAdmin(ctx, request, reply);
      if (!signedIn) return reply;
      if (!(await passesCsrf(ctx, request, reply, signedIn))) return reply;
      const posted = readPostedForm(request.body);
      if ((request.body as Record<string, unknown>)["_action"] === "discover") {
        const { errors, flash } = await discoverInto(posted.values);
        return render(reply, signedIn, undefined, posted.values, errors, Object.keys(errors).length ? 400 : 200, flash);
      }
      const body = createBodyFrom(posted);
      if (!body.ok) return render(reply, signedIn, undefined, posted.values, body.errors, 400);
      if (slugFromName(body.body.name ?? "") === "new") {
        // /apps/new is this form, so an app with id "new" could never be opened here.
        return render(reply, signedIn, undefined, posted.values, { name: `The id "new" is taken by this page's address. Choose another name.` }, 400);
      }
      let created: App;
      try {
        created = await createApp(ctx, body.body);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 && err.code !== "provider_unavailable" && err.code !== "provider_error") throw err;
        return render(reply, signedIn, undefined, posted.values, errorsFromAppError(err), err.code === "conflict" ? 409 : 400);
      }
      ctx.log.info({ appId: created.id, by: signedIn.user.id }, "app created in the web UI");
      return reply.redirect(`/apps/${created.id}?saved=1`, 303);
    });

    app.get<{ Params: { appId: string }; Querystring: Record<string, unknown> }>("/apps/:appId", { schema: { hide: true } }, async (request, reply) => {
      const signedIn = await requireAdmin(ctx, request, reply);
      if (!signedIn) return reply;
      const current = await loadApp(reply, signedIn, request.params.appId);
      if (!current) return reply;
      const flash = request.query.saved === "1" ? notice("success", "Saved.") : connectResult(current, request.query);
      return render(reply, signedIn, current, valuesFromApp(current), {}, 200, flash);
    });

    app.post<{ Params: { appId: string } }>("/apps/:appId", { schema: { hide: true } }, async (request, reply) => {
      const signedIn = await requireAdmin(ctx, request, reply);
      if (!signedIn) return reply;
      if (!(await passesCsrf(ctx, request, reply, signedIn))) return reply;
      const current = await loadApp(reply, signedIn, request.params.appId);
      if (!current) return reply;
      const posted = readPostedForm(request.body);
      if ((request.body as Record<string, unknown>)["_action"] === "discover") {
        const { errors, flash } = await discoverInto(posted.values);
        return render(reply, signedIn, current, posted.values, errors, Object.keys(errors).length ? 400 : 200, flash);
      }
      const body = patchBodyFrom(posted, current);
      if (!body.ok) return render(reply, signedIn, current, posted.values, body.errors, 400);
      try {
        await updateApp(ctx, current.id, body.body);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 && err.code !== "provider_unavailable" && err.code !== "provider_error") throw err;
        return render(reply, signedIn, current, posted.values, errorsFromAppError(err), 400);
      }
      ctx.log.info({ appId: current.id, by: signedIn.user.id }, "app changed in the web UI");
      return reply.redirect(`/apps/${current.id}?saved=1`, 303);
    });

    // Get OpenID Configuration with a script: fetch() with the session's CSRF token in a header.
    app.post("/ui/discovery", { schema: { hide: true } }, async (request, reply) => {
      const signedIn = await requireAdmin(ctx, request, reply);
      if (!signedIn) return reply;
      if (!(await passesCsrf(ctx, request, reply, signedIn))) return reply;
      const body = request.body;
      const url = body && typeof body === "object" && typeof (body as Record<string, unknown>).url === "string" ? ((body as Record<string, unknown>).url as string).trim() : "";
      reply.header("cache-control", "no-store");
      if (url === "") return reply.code(400).send({ message: "Enter the OpenID Configuration URL first." });
      try {
        return reply.send({ metadata: await discoverProvider(ctx, url) });
      } catch (err) {
        const message = discoveryMessage(err);
        if (message === undefined) throw err;
        return reply.code(err instanceof AppError && err.code === "invalid_request" ? 400 : 502).send({ message });
      }
    });
  };
}
