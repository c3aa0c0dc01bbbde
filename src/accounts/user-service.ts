// Local accounts: created by the CLI or /setup; `userId` of a local user's connections is its id.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { hashPassword } from "./password.ts";
import { UserStore, type User } from "./user-store.ts";

export const newUserInput = z.strictObject({
  email: z.email("must be an email address").max(320),
  password: z.string().min(8, "must be at least 8 characters").max(1000),
  isAdmin: z.boolean().default(false),
});

export async function createUser(ctx: Pick<Context, "db" | "clock">, input: z.input<typeof newUserInput>): Promise<User> {
  const parsed = newUserInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError("invalid_request", `${String(issue.path[0] ?? "input")}: ${issue.message}`);
  }
  const { email, password, isAdmin } = parsed.data;
  const user: User = { id: randomUUID(), email: email.toLowerCase(), isAdmin, createdAt: ctx.clock.now() };
  const inserted = await new UserStore(ctx.db).insert({
    id: user.id,
    email: user.email,
    password_hash: await hashPassword(password),
    is_admin: isAdmin ? 1 : 0,
    created_at: user.createdAt,
  });
  if (!inserted) throw new AppError("conflict", `an account with email ${user.email} exists`);
  return user;
}
