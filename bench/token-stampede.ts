// Stampede: 1,000 concurrent token reads over HTTP on one expired connection. Counts the
// refresh calls that reach the provider (must be 1) and compares the wall time of all reads
// with the same reads of a valid token (no refresh) and with one bare refresh call to the same
// loopback token endpoint: the stampede should cost about one refresh more. SQLite and PostgreSQL.
import { saveConnection } from "../src/connections/connection-service.ts";
import { createApp } from "../src/apps/app-service.ts";
import { FakeTokenEndpoint } from "../test/connections/fake-token-endpoint.ts";
import { benchService } from "./bench-service.ts";

const READS = 1_000;
const ROUNDS = 3;

async function bareRefresh(fake: FakeTokenEndpoint): Promise<number> {
  const { refreshToken } = fake.issue();
  const started = performance.now();
  const res = await fetch(fake.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: fake.clientId, client_secret: fake.clientSecret }),
  });
  await res.json();
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<void> {
  const fake = await FakeTokenEndpoint.start();
  try {
    for (const dialect of ["sqlite", "postgres"] as const) {
      const svc = await benchService(dialect);
      try {
        await createApp(svc.ctx, fake.appBody("stampede"));
        const rows = [];
        // Round -1 warms up the JIT and the pools and is not reported.
        for (let round = -1; round < ROUNDS; round++) {
          const bare = median(await Promise.all([0, 1, 2, 3, 4].map(() => bareRefresh(fake))));
          const grant = fake.issue();
          const userId = `stampede-${round}`;
          await saveConnection(svc.ctx, {
            appId: "stampede",
            userId,
            tokens: { accessToken: grant.accessToken, refreshToken: grant.refreshToken, tokenType: "Bearer", idToken: null, expiresIn: -1, scopes: null },
            account: { sub: null, email: null, name: null },
            requestedScopes: [],
          });
          const readAll = () =>
            Promise.all(
              Array.from({ length: READS }, () =>
                fetch(`${svc.url}/api/v1/apps/stampede/connections/${userId}/token`, { headers: svc.headers }).then(async (r) => ({ status: r.status, token: ((await r.json()) as { accessToken?: string }).accessToken })),
              ),
            );
          const callsBefore = fake.refreshCalls;
          const started = performance.now();
          const answers = await readAll();
          const wall = performance.now() - started;
          const ok = answers.filter((a) => a.status === 200 && a.token && fake.accepts(a.token)).length;
          // Baseline: the same 1,000 concurrent reads once the token is valid (no refresh at all).
          const validStarted = performance.now();
          await readAll();
          const validWall = performance.now() - validStarted;
          if (round >= 0) rows.push({
            dialect,
            round,
            reads: READS,
            validTokens: ok,
            refreshCallsAtProvider: fake.refreshCalls - callsBefore,
            wallMs: Math.round(wall),
            sameReadsValidTokenMs: Math.round(validWall),
            stampedeExtraMs: Math.round(wall - validWall),
            bareRefreshMs: Number(bare.toFixed(2)),
          });
        }
        console.table(rows);
      } finally {
        await svc.close();
      }
    }
  } finally {
    await fake.close();
  }
}
