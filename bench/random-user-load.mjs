// A fixed-rate load of GET .../token over random users, run in a process of its own so the
// load generator does not share the event loop (and its pauses) with the service measured.
// argv[2]: JSON {url, appId, users, seconds, rate, headers}. Prints autocannon's JSON result.
import autocannon from "autocannon";

const o = JSON.parse(process.argv[2]);
const result = await autocannon({
  url: o.url,
  duration: o.seconds,
  connections: 20,
  // A fixed, moderate rate: latency at saturation measures the CPU, not the design.
  overallRate: o.rate,
  headers: o.headers,
  requests: [
    {
      method: "GET",
      setupRequest: (req) => ({ ...req, path: `/api/v1/apps/${o.appId}/connections/u${Math.floor(Math.random() * o.users)}/token?minValidity=1` }),
    },
  ],
});
console.log(JSON.stringify({ average: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors }));
