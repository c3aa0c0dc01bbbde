// The host app's own users and sign-in sessions: nothing to do with connected-apps, which only
// ever sees the id this app chooses for a user. In memory, because this is an example.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export interface HostUser {
  id: string;
  email: string;
}

interface Account extends HostUser {
  passwordHash: Buffer;
}

const hash = (password: string) => createHash("sha256").update(password).digest();

/** `email:password,email:password`; each user's id is the part of the email before the @. */
export function parseUsers(spec: string): Account[] {
  return spec
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.indexOf(":");
      if (colon < 1) throw new Error(`HOST_APP_USERS: "${entry}" is not email:password`);
      const email = entry.slice(0, colon);
      return { id: email.split("@")[0]!, email, passwordHash: hash(entry.slice(colon + 1)) };
    });
}

export class Accounts {
  readonly #accounts: Account[];
  readonly #sessions = new Map<string, { user: HostUser; csrf: string }>();

  constructor(accounts: Account[]) {
    this.#accounts = accounts;
  }

  /** A session id for the right email and password, else null. */
  signIn(email: string, password: string): string | null {
    const account = this.#accounts.find((a) => a.email.toLowerCase() === email.trim().toLowerCase());
    // Compare a hash even for an unknown email, so the time taken does not tell which exist.
    const ok = timingSafeEqual(hash(password), account?.passwordHash ?? hash(randomBytes(16).toString("hex")));
    if (!account || !ok) return null;
    const sid = randomBytes(32).toString("base64url");
    this.#sessions.set(sid, { user: { id: account.id, email: account.email }, csrf: randomBytes(16).toString("base64url") });
    return sid;
  }

  session(sid: string | undefined): { user: HostUser; csrf: string } | null {
    return sid === undefined ? null : (this.#sessions.get(sid) ?? null);
  }

  signOut(sid: string | undefined): void {
    if (sid !== undefined) this.#sessions.delete(sid);
  }
}
