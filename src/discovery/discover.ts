// Provider discovery (OIDC Discovery 1.0 §4, RFC 8414 §3). Placeholder until the discovery work lands.
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import type { ProviderMetadata } from "./provider-metadata.ts";

export async function discoverProvider(_ctx: Pick<Context, "fetch" | "config">, url: string): Promise<ProviderMetadata> {
  throw new AppError("provider_unavailable", `discovery of ${url} is not implemented yet`);
}
