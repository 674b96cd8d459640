/**
 * The "Targets not met" section of docs/performance.md: why each missed target is missed, and what would close it.
 * Written by hand (the reasons do not change from run to run); the figures it refers to are in the tables above it.
 */
export const GAPS = `## Targets not met, and why

- **Gateway CPU per request (targets: 100 us besides the backend hop; per invocation with the backend answered
  in-process, 150 us, and 200 us with logging and metrics on) and the warm p50 ratio (target 1.15).** The profile
  above shows where the time goes. The backend client is now node:http with kept-alive connections
  (functions/proxy/backend-client.ts) instead of undici's \`fetch\`, which brought the p50 ratio from about 1.45 to
  about 1.26 and the throughput ratio from about 0.35 to about 0.6. What remains is mostly Node's own web objects
  (web streams, \`Request\`, \`Response\`, \`Headers\`: the core's contract), async context (Powertools' stores
  make every promise tracked), Powertools and middy per invocation, and the gateway's modules at 10-15 us each. The
  in-process figure now includes the HTTP client's own work (the backend answers at the connection, as bytes);
  with \`fetch\` it was measured with the client stubbed out, so the two are not comparable. Next: JSON answers
  read as bytes without a web stream (a web stream costs as much as the node:http exchange itself in isolation),
  and async context only where Powertools needs it. The row "floor" measures, in the same run, a minimal handler
  doing only the unavoidable work of one invocation (test/bench/floor.ts: body from the event, a verified token
  found, the message parsed and judged, one node:http request on a kept-alive agent, the answer parsed and returned),
  with Node's parts alone and through the web \`Request\`/\`Response\` of the core's contract. On this machine the
  first floor is itself above 150 us (185 us in its first run, machine loaded), so that target cannot be met by any
  gateway doing this work here; the gateway's distance to each floor is in the row.
- **Bundle without the AWS SDK (target 250 KB).** What remains is the CEL engine (about 83 KB, no smaller entry
  point), the YAML parser (about 45 KB; js-yaml is the smallest maintained full parser), zod/mini with its English
  messages (about 29 KB), Powertools logger and metrics (about 34 KB), aws-jwt-verify and jose (about 31 KB) and the
  gateway's own code (about 55 KB, the largest contributors table above). Going under 250 KB would mean hand-writing
  one of these libraries.
- **Init against the SSM-only module (target 1.3).** The gateway statically loads two SDK clients (SSM for the policy,
  Secrets Manager for the session key): the two clients alone cost about 1.05 times the SSM-only module (the row
  "SSM + Secrets Manager clients only"), so the second client is not what is missing. A CPU profile of one gateway
  init (\`node --cpu-prof\` on the timer above, Node 20) put the rest in: evaluating the bundle itself (about
  35-55 ms), the first \`fetch\` loading undici for the keys (about 25 ms, paid at init instead of on the first
  request; aws-jwt-verify fetches the JWKS with it), reading and compiling the policy (about 10 ms), source maps
  (about 12 ms with \`--enable-source-maps\`) and garbage collection. Lazy loading of the CEL engine and the YAML
  parser, when a policy needs neither, is not done yet.
- **Filtering a 1,000-tool list against 200 rules (target 2 ms).** The figure covers the whole list: \`JSON.parse\` of
  the backend's answer alone is 1.5-2.7 ms of it across runs on this machine (stated in the row), and re-serialising
  the filtered list another share. Judging the 1,000 tools against 200 rules takes under 1 ms. The same holds for
  10,000 tools (target 20 ms): \`JSON.parse\` alone is most of that figure (stated in its row).
- **Throughput at concurrency 32 (target 0.8 of the backend alone).** The gateway's CPU per request under load (in
  the row) is paid for the reasons of the first item. On a two-core machine the load generator, the gateway and the
  backend share the cores, so the ratio mostly says how much CPU the gateway needs beside the backend's.
`;
