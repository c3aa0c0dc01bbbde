// Signed-in local users of the web UI. INTERFACE STUB: the web UI work replaces the body.
import type { FastifyRequest } from "fastify";
import type { Context } from "../context.ts";
import type { User } from "./user-store.ts";

/** The user whose valid session cookie this request carries, or undefined. */
export async function getSignedInUser(_ctx: Context, _request: FastifyRequest): Promise<User | undefined> {
  return undefined;
}
