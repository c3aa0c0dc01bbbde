// The SDK's plain types (src/sdk/types.ts) must stay equal to the schemas the server validates
// and answers with. These are compile-time checks: `npm run typecheck` (and `npm test`) fails
// when an endpoint changes and the SDK does not follow; the test below runs that check alone.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type { appResource, createAppBody, patchAppBody } from "../../src/apps/app-schema.ts";
import type { TemplateSummary } from "../../src/apps/templates/index.ts";
import type { connectionResource, listConnectionsQuery, tokenQuery, tokenResource } from "../../src/connections/connection-schema.ts";
import type { connectSessionResource, createConnectSessionBody } from "../../src/connect/connect-session-schema.ts";
import type { providerMetadata } from "../../src/discovery/provider-metadata.ts";
import type { eventResource, listEventsQuery } from "../../src/events/event-schema.ts";
import type { ErrorCode as ServerErrorCode } from "../../src/errors/catalog.ts";
import type { Problem as ServerProblem } from "../../src/errors/problem.ts";
import type { ConnectedApps } from "../../src/sdk/client.ts";
import type * as sdk from "../../src/sdk/index.ts";

// Answers: what the SDK promises equals what the route's response schema emits.
expectTypeOf<sdk.App>().toEqualTypeOf<z.output<typeof appResource>>();
expectTypeOf<sdk.Connection>().toEqualTypeOf<z.output<typeof connectionResource>>();
expectTypeOf<sdk.Token>().toEqualTypeOf<z.output<typeof tokenResource>>();
expectTypeOf<sdk.ProviderMetadata>().toEqualTypeOf<z.output<typeof providerMetadata>>();
expectTypeOf<sdk.ConnectSession>().toEqualTypeOf<z.output<typeof connectSessionResource>>();
expectTypeOf<sdk.Event>().toEqualTypeOf<z.output<typeof eventResource>>();
// A webhook's body is the event without its delivery log (outbox-worker.ts webhookBody).
expectTypeOf<sdk.WebhookEvent>().toEqualTypeOf<Omit<z.output<typeof eventResource>, "delivery">>();
expectTypeOf<sdk.Template>().toEqualTypeOf<TemplateSummary>();
expectTypeOf<sdk.ErrorCode>().toEqualTypeOf<ServerErrorCode>();
expectTypeOf<sdk.Problem>().toEqualTypeOf<ServerProblem>();

// Requests: what the SDK lets a caller send equals what the route's schema accepts.
expectTypeOf<sdk.CreateAppInput>().toEqualTypeOf<z.input<typeof createAppBody>>();
expectTypeOf<sdk.CreateConnectSessionInput>().toEqualTypeOf<z.input<typeof createConnectSessionBody>>();
expectTypeOf<sdk.ListEventsQuery>().toEqualTypeOf<Partial<z.output<typeof listEventsQuery>>>();
expectTypeOf<sdk.UpdateAppInput>().toEqualTypeOf<z.input<typeof patchAppBody>>();
expectTypeOf<{ status?: sdk.ConnectionStatus | undefined }>().toEqualTypeOf<z.input<typeof listConnectionsQuery>>();
expectTypeOf<Parameters<ConnectedApps["connections"]["token"]>[2]>().toEqualTypeOf<Partial<{ minValidity: z.output<typeof tokenQuery>["minValidity"] }> | undefined>();

// The methods answer those types.
expectTypeOf<ConnectedApps["apps"]["get"]>().returns.resolves.toEqualTypeOf<sdk.App>();
expectTypeOf<ConnectedApps["connections"]["token"]>().returns.resolves.toEqualTypeOf<sdk.Token>();
expectTypeOf<ConnectedApps["proxy"]>().returns.resolves.toEqualTypeOf<Response>();

// The check has teeth: an App whose field drifted is refused.
type DriftedApp = Omit<sdk.App, "hasClientSecret"> & { hasClientSecret: string };
// @ts-expect-error a response type that differs from the schema does not compile
expectTypeOf<DriftedApp>().toEqualTypeOf<z.output<typeof appResource>>();

describe("SDK types against the server's schemas", () => {
  it("type-check (tsc) with no errors", { timeout: 120_000 }, () => {
    const root = join(import.meta.dirname, "../..");
    mkdirSync(join(root, ".tmp"), { recursive: true });
    const project = join(root, ".tmp", "tsconfig.sdk-types.json");
    writeFileSync(
      project,
      JSON.stringify({ extends: "../tsconfig.json", include: [], files: ["../test/sdk/types.test.ts"] }),
    );
    const run = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", project], { cwd: root, encoding: "utf8" });
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
