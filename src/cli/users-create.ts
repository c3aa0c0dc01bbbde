import { createUser } from "../accounts/user-service.ts";
import { parseFlags, requireFlag } from "./args.ts";
import type { Command } from "./command.ts";
import { withContext } from "./with-context.ts";

export const usersCreateCommand: Command = {
  path: ["users", "create"],
  usage: "connected-apps users create --email EMAIL --password PASSWORD [--admin]",
  summary: "create a local account and print its id",
  async run(args, io) {
    const { values } = parseFlags(args, { email: { type: "string" }, password: { type: "string" }, admin: { type: "boolean" } });
    const email = requireFlag(values.email, "email");
    const password = requireFlag(values.password, "password");
    const user = await withContext(io, (ctx) => createUser(ctx, { email, password, isAdmin: values.admin ?? false }));
    io.out(user.id);
  },
};
