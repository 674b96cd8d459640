/**
 * Memory of the function as deployed: a fresh `node <heap flags> <NODE_OPTIONS> invoke.mjs` process imports the
 * Lambda bundle (built as bundles.ts builds it, AWS SDK from node_modules), then invokes its handler in a loop with
 * HTTP API events, logging on as deployed (stdout read and discarded), against the bench backend. Its peak RSS is
 * what Lambda reports as "Max Memory Used" for the runtime process, less the runtime's own client, which is small.
 * The heap flags are those the Lambda Node.js runtime's bootstrap derives from the configured memory (new space =
 * memory / 10, semi-space = half of it, old space = memory - new space), for 256 MB: V8 then sizes its heap as it
 * would there, instead of growing it freely on a machine with gigabytes to spare.
 * Two loads: the boss's `tools/call echo` under the walkthrough policy, and `tools/list` of 1,000 tools under a
 * generated 200-rule policy (the larger responses).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { httpApiEvent } from "../support/api-gateway-events.js";
import { AUDIENCE, ISSUER } from "../support/identity-provider.js";
import { startBenchBackend } from "./backend.js";
import { ENTRY, bundle, bundlingOptions } from "./bundles.js";
import { BENCH_ROLES, BENCH_SUBJECT, ECHO_TEXT, clientHeaders, echoCall, generatedPolicy, toolsListCall } from "./fixtures.js";
import { startInitServers } from "./init-servers.js";

const WALKTHROUGH_POLICY = fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url));

const INVOKER = `import { readFileSync } from "node:fs";
const [bundle, eventFile, count, expected] = process.argv.slice(2);
const { handler } = await import(bundle);
const rssAfterInitMb = process.memoryUsage().rss / 2 ** 20;
const template = JSON.parse(readFileSync(eventFile, "utf8"));
const context = {
  callbackWaitsForEmptyEventLoop: true, functionName: "mcp-sso-gateway", functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:mcp-sso-gateway", memoryLimitInMB: "256",
  logGroupName: "/aws/lambda/mcp-sso-gateway", logStreamName: "bench", getRemainingTimeInMillis: () => 29000,
  done() {}, fail() {}, succeed() {},
};
let failures = 0;
for (let i = 0; i < Number(count); i++) {
  const event = { ...template, requestContext: { ...template.requestContext, requestId: "bench-" + i } };
  const result = await handler(event, { ...context, awsRequestId: "bench-" + i });
  if (result.statusCode !== 200 || !result.body.includes(expected)) failures++;
}
const memory = process.memoryUsage();
console.log("BENCH_MEMORY " + JSON.stringify({
  rssAfterInitMb, maxRssMb: process.resourceUsage().maxRSS / 1024, rssEndMb: memory.rss / 2 ** 20,
  heapUsedEndMb: memory.heapUsed / 2 ** 20, failures,
}));
process.exit(0);
`;

export interface MemoryFigure {
  load: string;
  invocations: number;
  rssAfterInitMb: number;
  maxRssMb: number;
  heapUsedEndMb: number;
}

export interface MemoryResult {
  /** The configured memory the heap flags stand for, MB, and the flags. */
  configuredMb: number;
  heapFlags: string[];
  figures: MemoryFigure[];
}

export const CONFIGURED_MB = 256;

/** The V8 heap limits the Lambda Node.js runtime sets for a function of `memoryMb`. */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`];
}

function invoke(dir: string, flags: string[], file: string, eventFile: string, count: number, expected: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [...flags, join(dir, "invoke.mjs"), file, eventFile, String(count), expected], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let marker = "";
  let tail = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-100_000);
    const at = tail.indexOf("BENCH_MEMORY ");
    if (at >= 0) marker = tail.slice(at);
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (tail += chunk));
  return new Promise<{ rssAfterInitMb: number; maxRssMb: number; heapUsedEndMb: number; failures: number }>((resolve, reject) => {
    const timer = setTimeout(() => child.kill(), 120_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      const line = marker.split("\n")[0] ?? "";
      if (code !== 0 || !line) return reject(new Error(`memory: invoker failed (exit ${code}): ${tail.slice(-1500)}`));
      resolve(JSON.parse(line.slice("BENCH_MEMORY ".length)) as { rssAfterInitMb: number; maxRssMb: number; heapUsedEndMb: number; failures: number });
    });
  });
}

export async function runMemory(options: { echoCalls: number; listCalls: number }): Promise<MemoryResult> {
  const dir = await mkdtemp(join(tmpdir(), "bench-memory-"));
  const backend = await startBenchBackend();
  const servers = await startInitServers("");
  try {
    const bundling = await bundlingOptions();
    const built = await bundle(ENTRY, join(dir, "gateway"), bundling, false);
    await writeFile(join(dir, "invoke.mjs"), INVOKER);
    const policyFile = join(dir, "policy-200.yaml");
    await writeFile(policyFile, generatedPolicy(200).yaml);
    const loads = [
      { load: "tools/call echo, walkthrough policy", count: options.echoCalls, policy: WALKTHROUGH_POLICY, body: echoCall(1), expected: ECHO_TEXT, token: await servers.token("pointy-haired-boss", ["admin"]) },
      { load: "tools/list of 1,000 tools, 200 rules", count: options.listCalls, policy: policyFile, body: toolsListCall(1, 1_000), expected: '"tools"', token: await servers.token(BENCH_SUBJECT, BENCH_ROLES) },
    ];
    const figures: MemoryFigure[] = [];
    for (const load of loads) {
      const eventFile = join(dir, "event.json");
      const event = httpApiEvent({ method: "POST", path: "/mcp", headers: clientHeaders(load.token), body: load.body }, { domainName: "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", stage: "$default" });
      await writeFile(eventFile, JSON.stringify(event));
      const env = { MCP_BACKEND_URL: backend.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URI: servers.jwksUri, POLICY_FILE: load.policy };
      const run = await invoke(dir, [...lambdaHeapFlags(CONFIGURED_MB), ...bundling.nodeOptions], built.file, eventFile, load.count, load.expected, env);
      if (run.failures > 0) throw new Error(`memory: ${run.failures} of ${load.count} invocations (${load.load}) did not answer as expected`);
      figures.push({ load: load.load, invocations: load.count, rssAfterInitMb: run.rssAfterInitMb, maxRssMb: run.maxRssMb, heapUsedEndMb: run.heapUsedEndMb });
    }
    return { configuredMb: CONFIGURED_MB, heapFlags: lambdaHeapFlags(CONFIGURED_MB), figures };
  } finally {
    await Promise.all([backend.close(), servers.close(), rm(dir, { recursive: true, force: true })]);
  }
}
