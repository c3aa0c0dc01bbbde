// The provider API for the proxy benchmark, in a process of its own (a provider is never in
// the service's process): /api/me answers a small JSON body, /api/big 1 MiB. Prints its port.
import { createServer } from "node:http";

const small = Buffer.from(JSON.stringify({ id: 42, email: "user@example.test", name: "A User", plan: "pro" }));
const big = Buffer.alloc(1024 * 1024, 97);
const server = createServer((req, res) => {
  const isBig = req.url?.startsWith("/api/big");
  const body = isBig ? big : small;
  res.writeHead(200, { "content-type": isBig ? "application/octet-stream" : "application/json", "content-length": body.length });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
// Stops with its parent.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
