// A loopback webhook receiver for tests and benchmarks: records every delivery with its raw body
// and signature, can be slow, answer 503, or be down (not listening) for a while.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Delivery {
  id: string;
  body: string;
  signature: string | undefined;
  receivedAt: number;
}

export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  /** Per event id: the most requests for it in flight at the same moment. */
  readonly peakConcurrent = new Map<string, number>();
  delayMs = 0;
  answer = 200;
  private readonly inFlight = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/connected-apps`;
  }

  ids(): string[] {
    return this.deliveries.map((d) => d.id);
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const id = (JSON.parse(body) as { id: string }).id;
        const n = (this.inFlight.get(id) ?? 0) + 1;
        this.inFlight.set(id, n);
        this.peakConcurrent.set(id, Math.max(this.peakConcurrent.get(id) ?? 0, n));
        setTimeout(() => {
          this.inFlight.set(id, this.inFlight.get(id)! - 1);
          if (this.answer >= 200 && this.answer < 300) {
            this.deliveries.push({ id, body, signature: req.headers["connected-apps-signature"] as string | undefined, receivedAt: Date.now() });
          }
          res.writeHead(this.answer).end();
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}
