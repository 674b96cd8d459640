/** The "How each figure is obtained" section of docs/performance.md: enough to rerun and to check every figure. */
export const METHOD = `## How each figure is obtained

\`npm run bench\` runs \`node --expose-gc --import tsx test/bench/run.ts\`. Every benchmark runs in a fresh child
process of its own (run.ts again, told which job by \`BENCH_JOB\`), so none inherits another's heap, JIT state or
configuration. \`--only warm,cold-start,scale,sse,throughput,memory\` runs some of them and \`--quick\` is a smoke run
with small counts; this page is then left alone unless \`--write\` is given. \`--profile-file f.cpuprofile\` keeps
the gateway profile (see below) for Chrome DevTools. Targets that are missed are reported, not failed: the exit
code is 1 only when a benchmark breaks. The product code is imported as it is when the bench runs; nothing of it is
copied.

Node.js: the function runs on the Lambda runtime's Node.js 22 (\`runtime\` in lib/mcp-sso-gateway.ts), whose fetch,
web streams and abort signals cost noticeably less than Node.js 20's. The child processes are started
(\`fork\` with \`execPath\`) on test/tools/node_modules/node/bin/node, the Node.js 22 the test set-up installs
(\`npm install --prefix test/tools\`), whatever node runs the harness; when it is missing, on the harness's own
node, and the page says so. \`--node current\` or \`--node <path>\` picks another. Each child reports its
\`process.version\`: the "node" column of the figures. Everything a child starts (the bench backend, the
processes of the cold-start and memory benchmarks, the load generator) runs on the same node.

Code measured: the benchmarks that run the gateway in-process (warm, throughput) import esbuild bundles built once
per run, with the options of the Lambda function's bundle (see Cold start below), into a folder under
node_modules/.cache/mcp-sso-gateway-bench that is removed at the end: node_modules is ignored by git, left alone by
tsx's loader, and the bundles' bare imports of the external \`@aws-sdk/*\` resolve from the project's node_modules
there, as they do from the runtime on Lambda. They are not given the TypeScript sources through tsx: tsx compiles
each file on its own with \`keepNames\`, which wraps functions and classes in naming calls, so what would be
measured is not the code the function runs. The harness itself (and the scale benchmark, which calls the policy
modules directly) still runs under tsx.

Timings depend on the machine and on what else runs on it (see the load average above). One yardstick is measured
at the end of the warm benchmark to compare machines (test/bench/calibration.ts): one RS256 verification with
node:crypto, 2048-bit key, the median over 11 batches of 200. The direct requests' own CPU (the client side of
\`fetch\`) in the warm table is another.

### Warm overhead (test/bench/warm.ts)

- The real Lambda entry point, \`functions/handler.ts\`, bundled as deployed (minified ESM, \`@aws-sdk/*\`
  external and resolved from node_modules, its source map beside it), is imported in-process, with
  \`MCP_BACKEND_URL\` the bench backend, \`JWT_ISSUER=acme@example.com\`, \`JWT_AUDIENCE=mcp.example.com\`,
  \`JWKS_URI\` a loopback JWKS (test/support/identity-provider.ts, RS256) and \`POLICY_FILE=policies/walkthrough.yaml\`.
  Logging is silenced with \`POWERTOOLS_LOG_LEVEL=SILENT\` and \`POWERTOOLS_METRICS_DISABLED=true\`. The import runs
  the function's init (configuration, \`await gateway.warmUp()\`), as a cold start does. Node's source-map support is
  on in that process (tsx turns it on), as the function's \`NODE_OPTIONS=--enable-source-maps\` turns it on there.
- The backend (test/bench/backend.ts) runs in a separate process, so its CPU is never the gateway's: the
  walkthrough's echo server (functions/demo/echo-server.ts) served statelessly as the MCP SDK documents it (a new
  server and transport per request, no session, JSON responses).
- The request is \`tools/call\` of \`echo\` with \`{"message": "hello from the benchmark"}\`, with \`Content-Type\`,
  \`Accept\` and \`Mcp-Protocol-Version\`. Through the gateway it is an API Gateway HTTP API event (payload 2.0,
  test/support/api-gateway-events.ts) with a Lambda context, both built before the clock starts, carrying the
  boss's token (\`roles: [admin]\`, one hour); the same token on every request, as a client reuses its token.
  Direct, it is \`fetch\` to the backend with the same body and headers (no token), the body read as text.
- 300 warm-up pairs, then 2,000 pairs: one gateway invocation and one direct request, the order swapped every other
  pair. Every answer is checked (status 200 and the echoed text).
- Latency: \`performance.now()\` around \`await handler(event, context)\`, and around \`fetch\` + \`text()\`.
  p50 and p99 are nearest-rank percentiles; the ratios divide the gateway's percentile by the direct one.
- CPU: \`process.cpuUsage()\` (user + system, every thread of the process) around each request, averaged.
  "Besides the backend hop" = gateway CPU - direct CPU: the client side of an HTTP exchange (the gateway's node:http
  client; the direct requests' fetch, a costlier client) is in both, the backend's CPU in neither.
- Fresh token: 300 tokens minted beforehand (untimed), one per gateway invocation, alternating with direct
  requests. It shows the cost of verifying every token (RS256) with no verified-token reuse.
- Logging and metrics on: the same in another process without the two variables (log level INFO, one access-log
  line and one EMF metrics line per invocation), stdout to /dev/null: 1,000 pairs, and the in-process measurement
  below. What logging costs is the difference of the two in-process figures, the steadier pair.
- In-process backend: after the measured pairs, requests to the backend URL are sent over in-memory connections that
  answer every request with a real answer of the backend, as HTTP/1.1 bytes (test/bench/in-process-backend.ts; the
  gateway reaches its backend with node:http, whose request writing and answer parsing are thus measured); 300 warm-up and 1,000 measured
  invocations then show the gateway's own compute with no socket in the way (\`process.cpuUsage()\` per
  invocation, averaged). 1,000 more run under the V8 sampling profiler (\`node:inspector\`, 100 us interval,
  main thread), their events made beforehand; self time is summed by package or project file, and by function.
  The bundle's frames (minified names, positions in the bundle) are mapped back through its source map
  (node:module's \`SourceMap\`) to the package or source file, the line where the function starts, and the
  function's original name; the raw profile (\`--profile-file\`) keeps the bundle's frames.
- Peak RSS: \`process.resourceUsage().maxRSS\` of that process after the measured pairs (before the in-process
  part): the bundled handler, tsx, harness and the loopback identity provider together. The warm processes run
  with the V8 heap limits Lambda sets for a 256 MB function (see Memory below), so the heap is sized as it would be
  there.

### Warm, at a Lambda's share of a CPU (test/bench/cpu-share.ts, cpu-limit.ts)

Lambda gives a function a share of a CPU in proportion to its memory, enforced as a CPU quota. The warm benchmark's
echo calls (same token, loopback backend, logging off) run once more in a process of their own, the gateway's
invocations alone, after 300 warm-up pairs: 4 blocks of 250 with the process free alternating with 4 blocks of 250
with it limited to 0.3 of one CPU, the order swapped every other round. The figure is the limited side's p50 minus
the free side's; a quota mostly shows in the tail (a process that has used its share waits for the next period),
so p99 is given too. The limit applies to that process only: the bench backend was started before it was limited,
so it is not. How it is limited is the first of these that the machine allows, without elevated tools, and the
page says which: a child cgroup (v2) with \`cpu.max\` "30000 100000"; else a child cgroup in the v1 \`cpu\`
hierarchy with \`cpu.cfs_quota_us=30000\`, \`cpu.cfs_period_us=100000\` (the same CFS bandwidth control, and the
period systemd's \`CPUQuota=30%\` uses), the process moved in and out by writing its pid to \`cgroup.procs\`, the
cgroup removed at the end; else an approximation, a watchdog process that SIGSTOPs the process and SIGCONTs it,
letting it run 3 ms of every 10 ms of wall time whether or not it needs the CPU (harsher than a quota, which only
stops a process that has used its share).

### Cold start (test/bench/cold-start.ts, bundles.ts, init-servers.ts)

- The bundle is built with esbuild exactly as \`NodejsFunction\` builds it from the \`bundling\` block of
  lib/mcp-sso-gateway.ts, read from that file on each run (format, target, minify, sourceMap, mainFields, banner,
  externalModules, bundleAwsSDK; any other option there is reported as not mirrored): \`--bundle --platform=node\`,
  entry functions/handler.ts (the HTTP API front door), \`@aws-sdk/*\` external, as NodejsFunction does by default on
  the Node.js 22 runtime, which provides the SDK. "With the AWS SDK" bundles everything. The size is the \`.mjs\`
  file; the source map, deployed beside it, is reported apart.
- Baselines, built the same way: an empty module, and a module that only imports the SSM client
  (\`import { SSMClient, GetParametersByPathCommand } from "@aws-sdk/client-ssm"\`, used in a handler, nothing
  called at init): what any function that reads SSM loads.
- Init: each module in a fresh \`node <the function's NODE_OPTIONS> timer.mjs <bundle>\` (the construct sets
  \`--enable-source-maps\`), in a temporary folder whose \`node_modules\` links the project's, so an external SDK
  resolves from node_modules as it does from the runtime on Lambda. timer.mjs reads \`performance.now()\` before and
  after \`await import(bundle)\`: "init" is the difference (loading, evaluating, and for the gateway its top-level
  \`await gateway.warmUp()\`: keys over loopback, the policy file); "since process start" adds Node's own start.
  The environment holds only \`PATH\` and the function's variables. One unmeasured round first, then 10 rounds with
  the variants in turn; medians. The init ratio is taken round by round (the gateway's init over the SSM-only
  module's, both with the SDK external, run one after the other), and its median reported, so that a slow spell of
  the machine weighs on both sides alike. A module importing the two SDK clients the gateway's code imports (SSM
  and Secrets Manager) shows how much of the gateway's init is that floor.
- "SSM policy + Secrets Manager session key" is the deployed configuration: \`POLICY_SSM_PATH\` and
  \`SESSION_KEY_SECRET_ID\`, the SDK pointed at a loopback stand-in speaking the AWS JSON protocol
  (\`AWS_ENDPOINT_URL_SSM\`, \`AWS_ENDPOINT_URL_SECRETS_MANAGER\`, static credentials).
- Parallel fetches: the same deployed configuration, five runs with the JWKS endpoint, SSM and Secrets Manager each
  answering after 200 ms, alternating with five runs answered at once. Each request's arrival is recorded: the
  fetches are parallel when, in every delayed run, all three arrive within 200 ms of the first, that is before any
  answer could have come back. The growth of the median init (about 200 ms in parallel, 600 ms in sequence) is
  reported beside it.

### Scale (test/bench/scale.ts, fixtures.ts)

- Policies are generated in ten-rule cycles: 4 native grants of one tool by exact name, 1 native grant by glob,
  3 CEL allows by tool name and role, 1 CEL deny by tool name and subject, 1 CEL allow by name prefix
  (\`startsWith\`) and role; twelve roles in all. Tools are named \`svc<i mod 50>_op<i>\`, with a description and an
  input schema (about 200 bytes each). The caller has three of the roles.
- Load and compile: a \`PolicyStore\` over the file source (functions/policy/), as the gateway builds it, timed from
  its creation to the compiled policy: reading, YAML parsing, schema, CEL compilation. The first load in the process
  is reported apart; the figure is the median of the loads after it (at least 5, up to 2 s). Scale figures are the
  process's CPU time per run (\`process.cpuUsage()\`, user + system), steadier than wall time on a shared machine
  (on an idle one the two agree); the wall times are in the tables too.
- Filter: what functions/proxy/filtered-response.ts does with a JSON list: \`JSON.parse\` of the backend's text, a
  judge for the request (functions/core/judge.ts), \`filterListResults\` (functions/mcp/list-filter.ts), and
  \`JSON.stringify\` when something was removed. In-process, nothing else; median after one unmeasured run.
  \`JSON.parse\` of the same text alone is timed beside it: the floor of any filter that reads the list.
- Load, compile and filter call the policy modules' TypeScript sources through tsx, not a bundle, so they run
  with tsx's naming wrappers; the lists through the gateway below run the bundle.
- Through the gateway: the bundled Lambda handler, as in the warm benchmark, with the generated 200-rule policy,
  the backend answering a \`tools/list\` whose cursor is \`bench-tools=<n>\` with n tools; CPU besides the backend
  hop as above, as many pairs as fit in about 4 s (at least 5).

### SSE events (test/bench/sse.ts)

- A backend's \`tools/list\` answer of about 1, 4, 8 and 16 MiB (the generated tools above), once as one SSE
  event (\`event: message\`, one \`data:\` line, a blank line) and once as the JSON body alone, each handed over
  in 64 KiB chunks by a stream that gives one chunk per read, as a backend's body arrives.
  Both are filtered against the 200-rule generated policy (a judge per run, as per request), which removes most of
  the tools for the bench caller.
- Both go through the gateway's response path itself, \`filteredResponse\` (functions/proxy/filtered-response.ts),
  in-process and from its TypeScript sources through tsx: a backend \`Response\` labelled \`text/event-stream\` or
  \`application/json\` over that stream, answering a POST with request id 1, a silent access log, the
  benchmark's judge, \`maxMessageBytes\` 32 MiB (above the largest size, and above \`MAX_BACKEND_MESSAGE_BYTES\`'s
  16 MiB default, so nothing is cut). The client's response is read to its last byte. SSE: the first field checked,
  then the event through \`createSseFilter\` (functions/mcp/sse.ts). JSON: the body read whole, \`readJson\`
  (functions/mcp/json-text.ts), \`filterListResults\`, \`JSON.stringify\`. A run must answer 200 with no reason
  logged, and both must remove the same tools.
- The figure is the process's CPU time per run (\`process.cpuUsage()\`), a forced GC before each, the SSE and JSON
  runs alternating: the median of at least 5 pairs per size (up to 15, while 4 s last), after one unmeasured pair.
  The 8 MiB ratio (SSE over JSON) is the one with a target (at most 3); CPU ms per MiB across the sizes shows
  whether the SSE filter stays linear in the event's size.

### Local server throughput (test/bench/throughput.ts)

The gateway served by the local adapter (functions/adapters/node-server.ts; \`loadConfigFromEnv\` and
\`createGatewayFromConfig\` as \`mcp-sso-gateway serve\` does; walkthrough policy; the JSON logger silenced),
bundled: test/bench/local-server-entry.ts, which does what functions/cli/serve.ts does on a free port, built with
the Lambda function's esbuild options, imported into the benchmark's process; the bench backend in a second
process, autocannon in a third, sending the boss's \`tools/call echo\` over 32 keep-alive connections: a 1 s
warm-up per target, then 5 s straight to the backend and 5 s through the gateway, twice. Requests per second
count answered requests over the time from the first to the last; every answer must be 200. The gateway's process
does nothing else meanwhile, so its CPU time over a gateway run divided by the requests answered is the gateway's
CPU per request under load (local adapter included). With two cores, the load generator, the gateway and the
backend share them: the ratio then mostly says how much CPU the gateway needs beside the backend's.

### Memory (test/bench/memory.ts)

The warm benchmark's peak RSS is above. The function as deployed: a fresh process runs the bundle (SDK external,
the function's NODE_OPTIONS) with the V8 heap limits the Lambda Node.js runtime derives from the configured memory
(new space = memory / 10, semi-space = half of it, old space = the rest: for 256 MB
\`--max-semi-space-size=12 --max-old-space-size=231\`), imports it, and invokes its handler in a loop with HTTP API
events against the bench backend, logging on (stdout read and discarded): 2,000 \`tools/call echo\` under the
walkthrough policy, then, in another process, 100 \`tools/list\` of 1,000 tools under the 200-rule policy. The
figure is its peak RSS (\`process.resourceUsage().maxRSS\`), to compare with the 256 MB configuration.
`;
