import { z } from "zod";

/** What discovery answers (SPEC §4 POST /api/v1/discovery); absent members are null. */
export const providerMetadata = z.object({
  issuer: z.string(),
  authorizationEndpoint: z.string().nullable(),
  tokenEndpoint: z.string().nullable(),
  revocationEndpoint: z.string().nullable(),
  userinfoEndpoint: z.string().nullable(),
  introspectionEndpoint: z.string().nullable(),
  jwksUri: z.string().nullable(),
  scopesSupported: z.array(z.string()).nullable(),
  codeChallengeMethodsSupported: z.array(z.string()).nullable(),
  tokenEndpointAuthMethodsSupported: z.array(z.string()).nullable(),
  /** RFC 9207 §3: the provider sends `iss` in authorization responses. */
  authorizationResponseIssParameterSupported: z.boolean(),
});

export type ProviderMetadata = z.infer<typeof providerMetadata>;
