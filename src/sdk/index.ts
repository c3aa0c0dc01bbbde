// connected-apps/sdk (SPEC §8): a host app's backend talks to connected-apps with this. It needs
// nothing beyond `fetch` (and node:crypto for verifyWebhook).
export { ConnectedApps, type ConnectedAppsOptions } from "./client.ts";
export { ConnectedAppsError, ConnectedAppsNetworkError } from "./errors.ts";
export { verifyWebhook, WebhookVerificationError, type VerifyWebhookOptions, type WebhookFailure } from "./webhooks.ts";
export { xoauth2 } from "./xoauth2.ts";
export type * from "./types.ts";
