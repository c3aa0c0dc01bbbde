// UserStore: local accounts of this service.
import type { Kysely } from "kysely";
import type { Database, UsersTable } from "../store/schema.ts";

export interface User {
  id: string;
  email: string;
  isAdmin: boolean;
  createdAt: number;
}

export function rowToUser(r: UsersTable): User {
  return { id: r.id, email: r.email, isAdmin: r.is_admin === 1, createdAt: Number(r.created_at) };
}

export class UserStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: UsersTable): Promise<boolean> {
    const res = await this.db
      .insertInto("users")
      .values(row)
      .onConflict((oc) => oc.column("email").doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async byEmail(email: string): Promise<(User & { passwordHash: string }) | undefined> {
    const row = await this.db.selectFrom("users").selectAll().where("email", "=", email.toLowerCase()).executeTakeFirst();
    return row && { ...rowToUser(row), passwordHash: row.password_hash };
  }

  async byId(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
    return row && rowToUser(row);
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
