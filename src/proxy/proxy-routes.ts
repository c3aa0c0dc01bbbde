// ANY /api/v1/proxy/{appId}/{userId}/{path...}: the provider API's answer, with the user's token.
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { forwardProxyCall } from "./forward.ts";
import { responseHeadersForCaller } from "./proxy-headers.ts";

export const PROXY_MAX_BODY_BYTES = 10 * 1024 * 1024;

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** Splits the raw URL so the path after {userId} is checked before anything decodes it. */
function splitRawUrl(raw: string): { appId: string; userId: string; rest: string } {
  const m = /^\/api\/v1\/proxy\/([^/?#]+)\/([^/?#]+)(.*)$/.exec(raw);
  if (!m) throw new AppError("invalid_request", "expected /api/v1/proxy/{appId}/{userId}/{path}");
  let userId: string;
  try {
    userId = decodeURIComponent(m[2]!);
  } catch {
    throw new AppError("invalid_request", "userId: malformed percent-encoding");
  }
  if (userId.length > 200) throw new AppError("invalid_request", "userId: at most 200 characters");
  return { appId: decodeURIComponent(m[1]!), userId, rest: m[3]! };
}

export function proxyRoutes(ctx: Context): FastifyPluginAsync {
  return async (api) => {
    // Bodies pass through untouched, whatever their type.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: PROXY_MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

    const handler = async (req: FastifyRequest, reply: import("fastify").FastifyReply) => {
      const { appId, userId, rest } = splitRawUrl(req.raw.url ?? "");
      const abort = new AbortController();
      // The response's "close" before it finished means the caller went away. (The request's
      // own "close" fires as soon as its body has been read, so it cannot tell.)
      reply.raw.once("close", () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const upstream = await forwardProxyCall(ctx, {
        appId,
        userId,
        method: req.method,
        rawPathAndQuery: rest,
        headers: req.headers,
        body: Buffer.isBuffer(req.body) ? req.body : undefined,
        signal: abort.signal,
      });
      reply.code(upstream.statusCode).headers(responseHeadersForCaller(upstream.headers));
      if (req.method === "HEAD") {
        await upstream.body.dump();
        return reply.send();
      }
      return reply.send(upstream.body);
    };
    api.route({ method: [...METHODS], url: "/proxy/:appId/:userId", schema: { hide: true }, handler });
    api.route({ method: [...METHODS], url: "/proxy/:appId/:userId/*", schema: { tags: ["proxy"], summary: "Call the provider's API as the user (apiBaseUrl + path)" }, handler });
  };
}
