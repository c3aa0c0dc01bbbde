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

export async function createUser(
  ctx: Pick<Context, "db" | "clock">,
  input: z.input<typeof newUserInput>,
  opts: { onlyIfFirst?: boolean } = {},
): Promise<User> {
  const parsed = newUserInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError("invalid_request", `${String(issue.path[0] ?? "input")}: ${issue.message}`);
  }
  const { email, password, isAdmin } = parsed.data;
  const user: User = { id: randomUUID(), email: email.toLowerCase(), isAdmin, createdAt: ctx.clock.now() };
  const row = { id: user.id, email: user.email, password_hash: await hashPassword(password), is_admin: isAdmin ? 1 : 0, created_at: user.createdAt };
  if (!opts.onlyIfFirst) {
    if (!(await new UserStore(ctx.db).insert(row))) throw new AppError("conflict", `an account with email ${user.email} exists`);
    return user;
  }
  // /setup: two posts at the same moment must not both create an administrator. A count check
  // cannot tell them apart; the meta table's primary key can: only one insert of this row wins.
  return ctx.db.transaction().execute(async (trx) => {
    const claimed = await trx
      .insertInto("meta")
      .values({ key: "first_user", value: user.id })
      .onConflict((oc) => oc.column("key").doNothing())
      .executeTakeFirst();
    const existing = await new UserStore(trx).count();
    if (Number(claimed.numInsertedOrUpdatedRows ?? 0) !== 1 || existing > 0) throw new AppError("conflict", "the first account exists already");
    await new UserStore(trx).insert(row);
    return user;
  });
}
