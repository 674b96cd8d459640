/**
 * Local server throughput: the gateway served by the local adapter (functions/adapters/node-server.ts, configured by
 * loadConfigFromEnv + createGatewayFromConfig as `mcp-sso-gateway serve` is), the walkthrough policy, the bench
 * backend in its own process. The server is the local-server bundle (local-server-entry.ts built by bundles.ts with
 * the Lambda function's esbuild options), imported into this process: the code that runs is esbuild's output, as on
 * Lambda, not tsx's per-file transform of the sources. autocannon, in a third process, sends the boss's
 * `tools/call echo` over `connections` keep-alive connections, alternately straight to the backend and through the
 * gateway, for `seconds` each, twice. The figure is the ratio of requests per second, gateway / direct. As this
 * process then runs the gateway alone, its CPU time over a gateway run, per request, is the gateway's CPU per request
 * under load (local adapter included).
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { AUDIENCE, ISSUER, startIdentityProvider } from "../support/identity-provider.js";
import { startBenchBackend } from "./backend.js";
import { ECHO_TEXT, clientHeaders, echoCall } from "./fixtures.js";
import { mean } from "./stats.js";

type LocalServerBundle = typeof import("./local-server-entry.js");

const WALKTHROUGH_POLICY = fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url));
const AUTOCANNON = createRequire(import.meta.url).resolve("autocannon");

/** The load generator's process (plain JavaScript): one autocannon run, its summary printed as one JSON line. */
const LOAD_GENERATOR = `
const job = JSON.parse(process.env.BENCH_LOAD);
const autocannon = require(job.autocannon);
const latencies = [];
let failed = 0;
let first = 0;
let last = 0;
const instance = autocannon({
  url: job.url, method: "POST", headers: job.headers, body: job.body,
  connections: job.connections, duration: job.seconds, pipelining: 1,
}, (err, result) => {
  if (err) throw err;
  latencies.sort((a, b) => a - b);
  const at = (p) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? 0;
  console.log(JSON.stringify({
    rps: latencies.length / ((last - first) / 1000), total: latencies.length, non2xx: failed, errors: result.errors,
    timeouts: result.timeouts, p50: at(0.5), p99: at(0.99),
  }));
});
instance.on("response", (client, status, bytes, responseTime) => {
  last = performance.now();
  if (latencies.length === 0) first = last - responseTime;
  latencies.push(responseTime);
  if (status !== 200) failed++;
});
`;

interface LoadRun {
  /** CPU time of this process during the run, microseconds per answered request. */
  cpuUsPerRequest: number;
  rps: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
}

export interface ThroughputSide {
  /** CPU of the process serving the gateway, per request (direct runs: what it spends idle). */
  cpuUsPerRequest: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  failed: number;
}

export interface ThroughputOptions {
  connections: number;
  seconds: number;
  rounds: number;
  /** The local-server bundle (bundles.ts: buildBenchBundles). */
  bundle: string;
}

export interface ThroughputResult {
  connections: number;
  seconds: number;
  rounds: number;
  gateway: ThroughputSide;
  direct: ThroughputSide;
  ratio: number;
}

function load(url: string, headers: Record<string, string>, connections: number, seconds: number): Promise<LoadRun> {
  const job = { autocannon: AUTOCANNON, url, headers, body: echoCall(1), connections, seconds };
  const cpu = process.cpuUsage();
  const child = spawn(process.execPath, ["-e", LOAD_GENERATOR], { env: { ...process.env, BENCH_LOAD: JSON.stringify(job) }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      const used = process.cpuUsage(cpu);
      if (code !== 0) return reject(new Error(`throughput: the load generator exited with ${code}: ${out.slice(0, 500)}`));
      const run = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Omit<LoadRun, "cpuUsPerRequest">;
      resolve({ ...run, cpuUsPerRequest: (used.user + used.system) / Math.max(1, run.total) });
    });
  });
}

function side(runs: LoadRun[]): ThroughputSide {
  return {
    cpuUsPerRequest: mean(runs.map((r) => r.cpuUsPerRequest)),
    rps: mean(runs.map((r) => r.rps)),
    p50Ms: mean(runs.map((r) => r.p50)),
    p99Ms: mean(runs.map((r) => r.p99)),
    requests: runs.reduce((n, r) => n + r.total, 0),
    failed: runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
  };
}

export async function runThroughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const [idp, backend] = await Promise.all([startIdentityProvider(), startBenchBackend()]);
  // The JSON logger, silenced (as in the warm benchmark): formatting access-log lines is measured there.
  process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
  setFunctionEnvironment({ MCP_BACKEND_URL: backend.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URI: idp.jwksUri, POLICY_FILE: WALKTHROUGH_POLICY });
  const { startLocalGateway } = (await import(pathToFileURL(options.bundle).href)) as LocalServerBundle;
  const server = await startLocalGateway();
  try {
    const token = await idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] }, expiresIn: "1h" });
    const targets = {
      gateway: { url: `${server.url}/mcp`, headers: clientHeaders(token) },
      direct: { url: backend.url, headers: clientHeaders() },
    };
    for (const { url, headers } of Object.values(targets)) {
      const reply = await fetch(url, { method: "POST", headers, body: echoCall(1) });
      const text = await reply.text();
      if (reply.status !== 200 || !text.includes(ECHO_TEXT)) throw new Error(`throughput: ${url} answered ${reply.status} ${text.slice(0, 200)}`);
      await load(url, headers, options.connections, 1); // warm-up
    }
    const runs = { gateway: [] as LoadRun[], direct: [] as LoadRun[] };
    for (let round = 0; round < options.rounds; round++) {
      for (const name of ["direct", "gateway"] as const) {
        runs[name].push(await load(targets[name].url, targets[name].headers, options.connections, options.seconds));
      }
    }
    const [g, d] = [side(runs.gateway), side(runs.direct)];
    return { connections: options.connections, seconds: options.seconds, rounds: options.rounds, gateway: g, direct: d, ratio: g.rps / d.rps };
  } finally {
    await Promise.all([server.close(), backend.close(), idp.close()]);
  }
}
