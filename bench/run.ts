// `npm run bench [name...]`: runs the benchmarks (all, or those named), each printing its figures
// as ratios against a baseline measured in the same run.
const benches: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  seal: () => import("./seal.ts"),
  startup: () => import("./startup.ts"),
  "apps-read": () => import("./apps-read.ts"),
  proxy: () => import("./proxy.ts"),
  "token-read": () => import("./token-read.ts"),
  "token-stampede": () => import("./token-stampede.ts"),
  "refresher-throughput": () => import("./refresher-throughput.ts"),
  "connections-memory": () => import("./connections-memory.ts"),
  "token-read-latency": () => import("./token-read-latency.ts"),
  outbox: () => import("./outbox.ts"),
  rotation: () => import("./rotation.ts"),
  "connect-flow": () => import("./connect-flow.ts"),
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !(n in benches));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(", ")}; known: ${Object.keys(benches).join(", ")}`);
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  console.log(`\n# ${name}`);
  await (await benches[name]!()).run();
}
process.exit(0);
