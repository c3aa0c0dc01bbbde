// The product on a real listening port for browser tests: bound to 127.0.0.1, reached (and
// configured, PUBLIC_URL) as http://localhost:PORT, so its cookies are apart from the providers'
// on 127.0.0.1.
import { createServer } from "node:net";
import type { Dialect } from "../../src/store/dialect.ts";
import { startTestService, type TestService, type TestServiceOptions } from "../support/test-service.ts";

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

export async function startListeningService(dialect: Dialect, opts: TestServiceOptions = {}): Promise<TestService & { origin: string }> {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const svc = await startTestService(dialect, { ...opts, env: { PUBLIC_URL: origin, PORT: String(port), ...opts.env } });
  await svc.server.listen({ port, host: "127.0.0.1" });
  return { ...svc, origin };
}
