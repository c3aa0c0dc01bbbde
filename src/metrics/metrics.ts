// Prometheus metrics (prom-client), one registry per running service so tests can run several.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  httpRequests: Histogram<"method" | "route" | "status">;
  dbQueries: Histogram;
  refreshes: Counter<"app" | "result">;
  refreshSeconds: Histogram<"app">;
  refreshDue: Gauge;
  tokenReadsWaited: Counter<"app">;
  readCache: Counter<"table" | "result">;
  webhookDeliveries: Counter<"result">;
}

export function createMetrics(opts: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Histogram({
      name: "connected_apps_http_request_duration_seconds",
      help: "HTTP requests by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    dbQueries: new Histogram({
      name: "connected_apps_db_query_duration_seconds",
      help: "Database query durations",
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    refreshes: new Counter({
      name: "connected_apps_refreshes_total",
      help: "Token refreshes at providers by app and result (ok, needs_reconnect, transient)",
      labelNames: ["app", "result"],
      registers: [registry],
    }),
    refreshSeconds: new Histogram({
      name: "connected_apps_refresh_duration_seconds",
      help: "Time a refresh took at the provider",
      labelNames: ["app"],
      registers: [registry],
    }),
    refreshDue: new Gauge({
      name: "connected_apps_refresh_due_connections",
      help: "Connections due for refresh that the refresher has not refreshed yet",
      registers: [registry],
    }),
    readCache: new Counter({
      name: "connected_apps_read_cache_total",
      help: "First looks at an app or a connection: answered from memory (hit), read from the database (miss), or read there because the change feed is down (bypass)",
      labelNames: ["table", "result"],
      registers: [registry],
    }),
    tokenReadsWaited: new Counter({
      name: "connected_apps_token_reads_waited_total",
      help: "Token reads that had to wait for a refresh at the provider",
      labelNames: ["app"],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: "connected_apps_webhook_deliveries_total",
      help: "Webhook delivery attempts by result",
      labelNames: ["result"],
      registers: [registry],
    }),
  };
}
