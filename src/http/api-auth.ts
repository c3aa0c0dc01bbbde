// Every /api/v1 route needs `Authorization: Bearer <api key>` (RFC 6750 §2.1).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiKeyPrincipal, ApiKeyVerifier } from "../api-keys/api-key-service.ts";
import { sendProblem } from "./error-handler.ts";

declare module "fastify" {
  interface FastifyRequest {
    apiKey?: ApiKeyPrincipal;
  }
}

export function requireApiKey(verifier: ApiKeyVerifier) {
  return async function apiKeyHook(request: FastifyRequest, reply: FastifyReply) {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) {
      reply.header("www-authenticate", 'Bearer realm="connected-apps"');
      return sendProblem(reply, "unauthorized", "missing API key: send Authorization: Bearer <key>");
    }
    const principal = await verifier.verify(match[1]!);
    if (!principal) {
      reply.header("www-authenticate", 'Bearer realm="connected-apps", error="invalid_token"');
      return sendProblem(reply, "unauthorized", "the API key is not valid");
    }
    request.apiKey = principal;
  };
}
