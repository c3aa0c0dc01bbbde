// Every failure becomes an RFC 9457 problem document with a catalog `code`: never a stack trace,
// never a 500 for bad input. Internal detail goes to the log, not to the caller.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import type { ErrorCode } from "../errors/catalog.ts";
import { AppError, toProblem } from "../errors/problem.ts";

export function sendProblem(reply: FastifyReply, code: ErrorCode, detail: string, opts: { status?: number; retryAfter?: number | undefined } = {}) {
  const problem = toProblem(code, detail, opts.status);
  if (opts.retryAfter !== undefined) reply.header("retry-after", String(Math.max(1, Math.ceil(opts.retryAfter))));
  return reply.code(problem.status).type("application/problem+json").send(problem);
}

function describeValidation(error: FastifyError): string {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const first = error.validation[0];
    if (first) {
      const where = error.validationContext ?? "body";
      const params = first.params as { issue?: { code?: string; keys?: string[]; path?: PropertyKey[]; message?: string } };
      const issue = params.issue;
      if (issue?.code === "unrecognized_keys" && issue.keys?.length) {
        const prefix = issue.path?.length ? `${issue.path.join(".")}.` : "";
        return `${where}: unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${prefix}${k}"`).join(", ")}`;
      }
      const path = first.instancePath.replace(/^\//, "").replaceAll("/", ".");
      return `${where}${path ? `.${path}` : ""}: ${first.message ?? "is invalid"}`;
    }
  }
  return error.message;
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof AppError) {
    if (error.status >= 500) request.log.warn({ code: error.code, detail: error.detail, cause: error.cause }, "request failed");
    return sendProblem(reply, error.code, error.detail, { status: error.status, retryAfter: error.retryAfter });
  }
  if (error.validation) return sendProblem(reply, "invalid_request", describeValidation(error));
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error }, "response did not match its schema");
    return sendProblem(reply, "internal_error", "the server built an invalid answer");
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      // SPEC §4 keeps the codes to a closed list: the status says 413, the code says what to fix.
      return sendProblem(reply, "invalid_request", "body: larger than allowed", { status: 413 });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return sendProblem(reply, "invalid_request", `unsupported Content-Type "${request.headers["content-type"] ?? ""}": send application/json`, { status: 415 });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return sendProblem(reply, "invalid_request", "body: empty, expected a JSON object");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return sendProblem(reply, "invalid_request", "body: not valid JSON");
  }
  const status = error.statusCode ?? 500;
  if (status < 500) {
    // Fastify's own client errors (bad JSON, bad content length...): their message is safe to show.
    const detail = error instanceof SyntaxError ? `body: not valid JSON (${error.message})` : error.message;
    return sendProblem(reply, status === 404 ? "not_found" : "invalid_request", detail, { status });
  }
  request.log.error({ err: error }, "unexpected error");
  return sendProblem(reply, "internal_error", `unexpected error; request id ${request.id}`);
}
