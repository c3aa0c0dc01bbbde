// Sign-in attempts are limited per (email, client address): after MAX_FAILURES wrong passwords in
// WINDOW_MS that pair is refused until the window has passed, so a password cannot be guessed
// online, while the same account can still sign in from elsewhere. Kept in memory: per instance,
// and forgotten on restart, which still caps a guesser at a few attempts a minute per instance.
import type { Clock } from "../context.ts";

const MAX_FAILURES = 5;
const WINDOW_MS = 15 * 60 * 1000;
const MAX_TRACKED = 10_000;

export class LoginRateLimit {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly clock: Clock) {}

  private key(email: string, ip: string): string {
    return `${email.trim().toLowerCase()}\u0000${ip}`;
  }

  private recent(key: string): number[] {
    const since = this.clock.now() - WINDOW_MS;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  /** Milliseconds until this pair may try again, or 0 when it may try now. */
  blockedFor(email: string, ip: string): number {
    const recent = this.recent(this.key(email, ip));
    if (recent.length < MAX_FAILURES) return 0;
    return recent[recent.length - MAX_FAILURES]! + WINDOW_MS - this.clock.now();
  }

  recordFailure(email: string, ip: string): void {
    const key = this.key(email, ip);
    if (!this.failures.has(key) && this.failures.size >= MAX_TRACKED) {
      // Drop the oldest pair rather than grow without bound under a spray of addresses.
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    this.failures.set(key, [...this.recent(key), this.clock.now()]);
  }

  recordSuccess(email: string, ip: string): void {
    this.failures.delete(this.key(email, ip));
  }
}
