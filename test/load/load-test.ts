/**
 * `npm run load`: a bounded load test of the gateway on loopback. One process runs the demo identity provider and
 * the real gateway (local adapter, walkthrough policy) on its main thread, the echo MCP server and the load generator
 * (autocannon) on threads of their own. The generator sends a fixed rotation of allowed, denied and invalid requests:
 * a warm-up, then the main load in two halves. Every status (and body) is checked against what the gateway must
 * answer, what reached the backend against what was allowed, and the gateway thread's heap after a forced GC before,
 * between and after the halves. Exit code 1 on any unexpected response, transport error, backend mismatch or heap
 * growth over the limit.
 *
 *   node --expose-gc --import tsx test/load/load-test.ts [--requests N] [--connections N]
 *   (or LOAD_REQUESTS / LOAD_CONNECTIONS / LOAD_WARMUP / LOAD_MAX_HEAP_GROWTH_MB)
 */
import { availableParallelism } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import {
  GENERATOR_MODULE,
  GENERATOR_ROLE,
  type FromGenerator,
  type KindSummary,
  type PhaseResult,
  type TallySnapshot,
  type ToGenerator,
} from "./load-generator.js";
import { startLoadStack, startThread } from "./load-stack.js";

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return parsed;
}

const { values: flags } = parseArgs({ options: { requests: { type: "string" }, connections: { type: "string" } } });
const REQUESTS = positiveInt("--requests / LOAD_REQUESTS", flags.requests ?? process.env.LOAD_REQUESTS, 20_000);
const CONNECTIONS = positiveInt("--connections / LOAD_CONNECTIONS", flags.connections ?? process.env.LOAD_CONNECTIONS, 64);
const WARMUP = positiveInt("LOAD_WARMUP", process.env.LOAD_WARMUP, 1_000);
const MAX_HEAP_GROWTH_MB = positiveInt("LOAD_MAX_HEAP_GROWTH_MB", process.env.LOAD_MAX_HEAP_GROWTH_MB, 10);
if (REQUESTS < 2) throw new Error("--requests / LOAD_REQUESTS must be at least 2 (the load runs in two halves)");
/** Requests the stack makes before the load: initialize and notifications/initialized, for the boss and jsmith. */
const SETUP = { initialize: 2, "notifications/initialized": 2 };

const gc = globalThis.gc;
if (!gc) {
  console.error("load: run with node --expose-gc (npm run load does)");
  process.exit(2);
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const pad = (value: string | number, width: number) => String(value).padEnd(width);
const lpad = (value: string | number, width: number) => String(value).padStart(width);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The gateway thread's heap and the process's RSS, once garbage is collected and closed sockets have settled. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    await sleep(100);
    gc?.();
  }
  return process.memoryUsage();
}

function percentile(sorted: number[], p: number): string {
  return sorted.length === 0 ? "-" : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0).toFixed(1);
}

const started = performance.now();
// The generator's thread loads while the gateway starts.
const [stack, generator] = await Promise.all([startLoadStack(), startThread<FromGenerator>(GENERATOR_MODULE, GENERATOR_ROLE)]);
const ask = async <Reply extends FromGenerator>(message: ToGenerator) => (await generator.ask(message)) as Reply;
const sessions = { boss: await stack.openSession(stack.tokens.boss), jsmith: await stack.openSession(stack.tokens.jsmith) };
const { kinds } = await ask<{ kinds: KindSummary[] }>({ setup: { url: stack.url, tokens: stack.tokens, sessions, connections: CONNECTIONS } });
const warmup = await ask<PhaseResult>({ phase: "warm-up", amount: WARMUP });
const before = await settledMemory();
const first = await ask<PhaseResult>({ phase: "load 1/2", amount: Math.ceil(REQUESTS / 2) });
const middle = await settledMemory();
const second = await ask<PhaseResult>({ phase: "load 2/2", amount: Math.floor(REQUESTS / 2) });
const after = await settledMemory();
const tally = await ask<TallySnapshot>("tally");
const backendCounts = await stack.backendCounts();
await generator.close();
await stack.close();
const elapsed = (performance.now() - started) / 1000;

const phases = [warmup, first, second];
const main: PhaseResult = {
  name: "load total",
  requests: first.requests + second.requests,
  seconds: first.seconds + second.seconds,
  errors: first.errors + second.errors,
  timeouts: first.timeouts + second.timeouts,
  errorCodes: [],
  latencies: [...first.latencies, ...second.latencies].sort((a, b) => a - b),
};

console.log(`\nmcp-sso-gateway load test: ${REQUESTS} requests at concurrency ${CONNECTIONS} on loopback (+${WARMUP} warm-up)`);
console.log(`node ${process.version}, ${availableParallelism()} CPUs, walkthrough policy, ${kinds.length} request kinds in a fixed rotation\n`);

console.log(`${pad("phase", 12)}${lpad("requests", 9)}${lpad("seconds", 9)}${lpad("req/s", 8)}${lpad("p50 ms", 8)}${lpad("p99 ms", 8)}${lpad("max ms", 8)}${lpad("errors", 8)}${lpad("timeouts", 9)}`);
for (const phase of [...phases, main]) {
  const sorted = [...phase.latencies].sort((a, b) => a - b);
  console.log(
    `${pad(phase.name, 12)}${lpad(phase.requests, 9)}${lpad(phase.seconds.toFixed(2), 9)}${lpad((phase.requests / phase.seconds).toFixed(0), 8)}` +
      `${lpad(percentile(sorted, 50), 8)}${lpad(percentile(sorted, 99), 8)}${lpad((sorted[sorted.length - 1] ?? 0).toFixed(1), 8)}${lpad(phase.errors, 8)}${lpad(phase.timeouts, 9)}`,
  );
}

const byKind = new Map(tally.byKind);
console.log(`\n${pad("request kind (all phases)", 36)}${pad("group", 9)}${pad("expected", 10)}responses by status`);
for (const kind of kinds) {
  const statuses = (byKind.get(kind.name) ?? []).map(([status, count]) => `${status} x ${count}`).join(", ");
  console.log(`${pad(kind.name, 36)}${pad(kind.group, 9)}${pad(kind.expectedStatus, 10)}${statuses || "none"}`);
}

const unexpected = sum(tally.unexpected.map((entry) => entry.count));
console.log(`\nunexpected responses: ${unexpected === 0 ? "none" : unexpected}`);
for (const entry of tally.unexpected) {
  console.log(`  ${entry.kind}: expected ${entry.expected}, got ${entry.got}, ${entry.count} times; e.g. ${JSON.stringify(entry.sample)}`);
}
const errors = sum(phases.map((phase) => phase.errors));
const timeouts = sum(phases.map((phase) => phase.timeouts));
const errorCodes = phases.flatMap((phase) => phase.errorCodes.map(([code, count]) => `, ${code} x ${count} (${phase.name})`));
const answered = sum(tally.byKind.flatMap(([, statuses]) => statuses.map(([, count]) => count)));
const sent = WARMUP + REQUESTS;
console.log(`transport errors: ${errors} (timeouts ${timeouts})${errorCodes.join("")}`);
console.log(`responses: ${answered} of ${sent} requests answered`);

console.log("\nbackend (what the echo MCP server received, by JSON-RPC method):");
const backendExpected = new Map([...Object.entries(SETUP), ...tally.backendExpected]);
let backendMismatch = 0;
for (const key of new Set([...backendExpected.keys(), ...backendCounts.keys()])) {
  const expected = backendExpected.get(key) ?? 0;
  const got = backendCounts.get(key) ?? 0;
  if (expected !== got) backendMismatch++;
  console.log(`  ${pad(key, 28)}expected ${lpad(expected, 6)}, got ${lpad(got, 6)}${expected === got ? "" : "  MISMATCH"}`);
}

const growth = (after.heapUsed - before.heapUsed) / 2 ** 20;
console.log("\ngateway thread heap after forced GC (MB):");
console.log(`  heapUsed  before ${mb(before.heapUsed)}, after 1/2 ${mb(middle.heapUsed)}, after 2/2 ${mb(after.heapUsed)}`);
console.log(`  growth    ${growth.toFixed(1)} over the load (1/2: ${mb(middle.heapUsed - before.heapUsed)}, 2/2: ${mb(after.heapUsed - middle.heapUsed)}); limit ${MAX_HEAP_GROWTH_MB}`);
console.log(`  process rss  before ${mb(before.rss)}, after 1/2 ${mb(middle.rss)}, after 2/2 ${mb(after.rss)}`);

const setupRequests = sum(Object.values(SETUP));
console.log(`\naccess log: ${stack.logger.lines} lines, by status and reason:`);
for (const [outcome, count] of [...stack.logger.byOutcome].sort(([a], [b]) => a.localeCompare(b))) console.log(`  ${pad(outcome, 52)}${lpad(count, 7)}`);
for (const [message, count] of stack.logger.other) console.log(`  (other log line) ${pad(message, 34)}${lpad(count, 7)}`);

const failures = [
  unexpected > 0 && `${unexpected} unexpected responses`,
  errors > 0 && `${errors} transport errors`,
  answered !== sent && `${sent - answered} requests unanswered`,
  stack.logger.lines !== answered + setupRequests && `${stack.logger.lines} access-log lines for ${answered + setupRequests} requests`,
  backendMismatch > 0 && "the backend did not receive exactly the allowed requests",
  growth > MAX_HEAP_GROWTH_MB && `heap grew ${growth.toFixed(1)} MB (limit ${MAX_HEAP_GROWTH_MB} MB)`,
].filter((failure): failure is string => typeof failure === "string");

console.log(`\n${failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`} (${elapsed.toFixed(1)} s in all)`);
console.log(
  `load: requests=${main.requests} rps=${(main.requests / main.seconds).toFixed(0)} p50_ms=${percentile(main.latencies, 50)} p99_ms=${percentile(main.latencies, 99)} ` +
    `unexpected=${unexpected} errors=${errors} backend_mismatch=${backendMismatch} heap_growth_mb=${growth.toFixed(1)}`,
);
process.exitCode = failures.length === 0 ? 0 : 1;
