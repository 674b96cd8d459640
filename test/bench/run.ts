/**
 * `npm run bench`: the performance figures of the gateway, printed as a table, written to docs/performance.md with
 * the machine they ran on, and summed up in one last line:
 *
 *   bench: warm_ratio_p50=<x> init_ratio=<y> bundle_kb=<z> list_1000x200_ms=<w> sse_8mib_ratio=<v> cpu_us=<u>
 *          throughput_ratio=<t>
 *
 *   node --expose-gc --import tsx test/bench/run.ts [--only warm,cold-start,scale,sse,throughput,memory] [--quick]
 *                                                   [--write] [--profile-file path.cpuprofile] [--node current|path]
 *
 * Every benchmark runs in a fresh child process of its own (this file, with BENCH_JOB set), so none inherits
 * another's heap, JIT state or configuration, and a process's peak RSS is its own benchmark's. The children run on
 * the Node.js major of the function's Lambda runtime (22): test/tools/node_modules/node/bin/node, which the test set-up
 * installs (`npm install --prefix test/tools`), when it is there, else on this node (the report says which ran each
 * figure); `--node current` or `--node <path>` chooses another. The warm benchmark's processes get the V8 heap
 * limits of a 256 MB Lambda function. The warm and throughput benchmarks import bundles built here once per run
 * (bundles.ts), the deployed function's code, rather than the sources through tsx. Targets not met are
 * reported, not failed: the exit code is 1 only when a benchmark itself breaks. docs/performance.md is written after
 * a full run (or with --write); `--only` runs just the benchmarks named. `--quick` is a smoke run with small counts,
 * whose figures are not worth recording (nor recorded, without --write).
 */
import { execFileSync, fork } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildBenchBundles, lambdaNodeMajor, removeBenchBundles, type BenchBundles } from "./bundles.js";
import { runColdStart } from "./cold-start.js";
import { CONFIGURED_MB, lambdaHeapFlags, runMemory } from "./memory.js";
import { formatTable, renderDocument, rows, summaryLine, type BenchResults, type ResultKey } from "./report.js";
import { runScale } from "./scale.js";
import { runSse, type SseOptions } from "./sse.js";
import { currentLoad, describeMachine, type BenchNode } from "./stats.js";
import { runThroughput, type ThroughputOptions } from "./throughput.js";
import { runWarm, type WarmOptions } from "./warm.js";

/** The share of one CPU the gateway's process is limited to for the "at a Lambda's share of a CPU" figure. */
const CPU_SHARE = 0.3;

const BENCHMARKS = ["warm", "cold-start", "scale", "sse", "throughput", "memory"] as const;
type Benchmark = (typeof BENCHMARKS)[number];
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOCUMENT = fileURLToPath(new URL("../../docs/performance.md", import.meta.url));
/** The Node.js of the Lambda runtime's major, installed by the test set-up (test/tools/package.json). */
const LAMBDA_NODE = fileURLToPath(new URL("../tools/node_modules/node/bin/node", import.meta.url));
/** A benchmark's process is stopped after this long (a full run of the slowest takes about a minute). */
const CHILD_TIMEOUT_MS = 240_000;

type Job =
  | { kind: "warm"; options: WarmOptions }
  | { kind: "cold-start"; runs: number }
  | { kind: "scale" }
  | ({ kind: "sse" } & SseOptions)
  | ({ kind: "throughput" } & ThroughputOptions)
  | { kind: "memory"; echoCalls: number; listCalls: number };

function perform(job: Job): Promise<unknown> {
  switch (job.kind) {
    case "warm":
      return runWarm(job.options);
    case "cold-start":
      return runColdStart({ runs: job.runs });
    case "scale":
      return runScale();
    case "sse":
      return runSse(job);
    case "throughput":
      return runThroughput(job);
    case "memory":
      return runMemory(job);
  }
}

/** What a child sends back: its benchmark's result and the Node.js version it ran on, or what broke. */
type ChildMessage<T> = { ok: true; value: T; node: string } | { ok: false; error: string };

/**
 * The node the benchmarks run on: `choice` (a path, or "current" for this one), else the Lambda runtime's major
 * installed under test/tools when it is there, else this one.
 */
function benchNode(choice: string | undefined): BenchNode {
  const lambdaMajor = lambdaNodeMajor();
  const describe = (path: string, source: BenchNode["source"]): BenchNode => {
    const version = path === process.execPath ? process.version : execFileSync(path, ["--version"], { encoding: "utf8" }).trim();
    const shown = relative(ROOT, path).startsWith("..") ? path : relative(ROOT, path);
    return { path, shown, version, source, lambdaMajor, matchesLambda: lambdaMajor === undefined ? undefined : version.startsWith(`v${lambdaMajor}.`) };
  };
  if (choice === "current") return describe(process.execPath, "chosen");
  if (choice !== undefined) return describe(resolve(choice), "chosen");
  if (existsSync(LAMBDA_NODE)) {
    try {
      return describe(LAMBDA_NODE, "test tools");
    } catch (err) {
      console.log(`bench: ${LAMBDA_NODE} does not run (${err instanceof Error ? err.message : String(err)}); benchmarks on this node`);
    }
  }
  return describe(process.execPath, "fallback");
}

/** Runs a job in a fresh `<node> --expose-gc --import tsx` process and returns what it sent back, and its node. */
function inChild<T>(node: BenchNode, job: Job, options: { quietStdout?: boolean } = {}): Promise<{ value: T; node: string }> {
  // The warm benchmark runs with the heap limits of a 256 MB Lambda function, so its peak RSS means something there.
  const heap = job.kind === "warm" ? lambdaHeapFlags(CONFIGURED_MB) : [];
  const child = fork(fileURLToPath(import.meta.url), [], {
    execPath: node.path,
    execArgv: [...heap, "--expose-gc", "--import", "tsx"],
    env: { ...process.env, BENCH_JOB: JSON.stringify(job) },
    // Logging on (the `logging` warm run) writes one line per request: to /dev/null, as nobody reads it.
    stdio: ["ignore", options.quietStdout ? "ignore" : "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    let result: ChildMessage<T> | undefined;
    const timer = setTimeout(() => {
      result = { ok: false, error: `${job.kind} took more than ${CHILD_TIMEOUT_MS / 1000} s and was stopped` };
      child.kill();
    }, CHILD_TIMEOUT_MS);
    child.on("message", (message: typeof result) => (result ??= message));
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (result?.ok) resolve({ value: result.value, node: result.node });
      else reject(new Error(result?.error ?? `${job.kind} exited with code ${code} and no result`));
    });
  });
}

async function childMain(job: Job): Promise<void> {
  try {
    const value = await perform(job);
    const message: ChildMessage<unknown> = { ok: true, value, node: process.version };
    process.send?.(message, () => process.exit(0));
  } catch (err) {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.send?.({ ok: false, error }, () => process.exit(1));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: "string" },
      quick: { type: "boolean", default: false },
      write: { type: "boolean", default: false },
      "profile-file": { type: "string" },
      node: { type: "string" },
    },
  });
  const only = values.only?.split(",").map((name) => name.trim()).filter(Boolean) as Benchmark[] | undefined;
  for (const name of only ?? []) {
    if (!BENCHMARKS.includes(name)) throw new Error(`--only: unknown benchmark ${JSON.stringify(name)} (known: ${BENCHMARKS.join(", ")})`);
  }
  const selected = (name: Benchmark) => !only || only.includes(name);
  const quick = values.quick;
  const node = benchNode(values.node);
  const machine = { ...describeMachine(), benchNode: node };
  const started = performance.now();
  const results: BenchResults = { machine, startedAt: new Date().toISOString(), seconds: 0, quick, failures: [], nodes: {} };
  console.log(`bench: ${machine.cpu}, ${machine.cores} cores, ${machine.ramGb} GB; load average ${machine.loadAtStart.toFixed(2)}`);
  console.log(`bench: benchmarks on Node ${node.version} (${node.shown}), harness on Node ${machine.node}`);
  if (node.matchesLambda === false) {
    const hint = node.source === "fallback" ? ` (install it: npm install --prefix test/tools)` : "";
    console.log(`bench: WARNING: the function's Lambda runtime is Node ${node.lambdaMajor}; figures from Node ${node.version} are not representative${hint}`);
  }

  let bundles: BenchBundles | undefined;
  const bundled = async (): Promise<BenchBundles> => (bundles ??= await buildBenchBundles());

  async function step<T>(label: string, job: Job | (() => Promise<Job>), key: ResultKey, store: (value: T) => void, options?: { quietStdout?: boolean }): Promise<void> {
    const t0 = performance.now();
    process.stdout.write(`bench: ${label} ... `);
    try {
      const ran = await inChild<T>(node, typeof job === "function" ? await job() : job, options);
      store(ran.value);
      results.nodes[key] = ran.node;
      console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      console.log("FAILED");
      console.error(err instanceof Error ? err.message : String(err));
      results.failures.push(label);
    }
  }

  const warm = (mode: WarmOptions["mode"]) => async (): Promise<Job> => ({ kind: "warm", options: {
    mode,
    requests: quick ? 200 : mode === "echo" ? 2_000 : 1_000,
    warmup: quick ? 50 : 300,
    freshTokens: mode === "echo" ? (quick ? 50 : 300) : 0,
    computeRequests: mode === "lists" || mode === "cpu-share" ? 0 : quick ? 100 : 1_000,
    profileFile: values["profile-file"] === undefined ? undefined : resolve(values["profile-file"]),
    bundle: (await bundled()).lambda,
    // About 7 s of blocks at 0.3 of a CPU and on this machine (the limited side runs at about a third of the speed).
    cpuShare: mode === "cpu-share" ? { share: CPU_SHARE, rounds: quick ? 2 : 4, perRound: quick ? 50 : 250 } : undefined,
  } });
  try {
    if (selected("scale")) await step("scale (policy load, list filtering)", { kind: "scale" }, "scale", (v: BenchResults["scale"]) => (results.scale = v));
    if (selected("sse")) {
      const job: Job = { kind: "sse", minRuns: quick ? 1 : 5, maxRuns: quick ? 1 : 15, budgetMs: quick ? 0 : 4_000 };
      await step("sse (one large tools/list event, against a JSON body)", job, "sse", (v: BenchResults["sse"]) => (results.sse = v));
    }
    if (selected("warm")) {
      await step("warm (tools/call echo)", warm("echo"), "warm", (v: BenchResults["warm"]) => (results.warm = v));
      await step("warm (logging and metrics on)", warm("logging"), "logging", (v: BenchResults["logging"]) => (results.logging = v), { quietStdout: true });
      await step("warm (tools/list through the gateway)", warm("lists"), "lists", (v: BenchResults["lists"]) => (results.lists = v));
      await step(`warm (at ${CPU_SHARE} of a CPU)`, warm("cpu-share"), "cpuShare", (v: BenchResults["cpuShare"]) => (results.cpuShare = v));
    }
    if (selected("memory")) {
      const job: Job = { kind: "memory", echoCalls: quick ? 200 : 2_000, listCalls: quick ? 20 : 100 };
      await step("memory (deployed bundle)", job, "memory", (v: BenchResults["memory"]) => (results.memory = v));
    }
    if (selected("cold-start")) {
      await step("cold start (bundle, init)", { kind: "cold-start", runs: quick ? 3 : 10 }, "coldStart", (v: BenchResults["coldStart"]) => (results.coldStart = v));
    }
    if (selected("throughput")) {
      const job = async (): Promise<Job> => ({ kind: "throughput", connections: 32, seconds: quick ? 2 : 5, rounds: quick ? 1 : 2, bundle: (await bundled()).server });
      await step("throughput (local server, concurrency 32)", job, "throughput", (v: BenchResults["throughput"]) => (results.throughput = v));
    }
  } finally {
    if (bundles) await removeBenchBundles(bundles);
  }

  results.seconds = (performance.now() - started) / 1000;
  results.machine.loadAtEnd = currentLoad();
  const table = rows(results);
  console.log(`\n${formatTable(table)}\n`);
  if ((!only && !quick) || values.write) {
    await writeFile(DOCUMENT, renderDocument(results, table));
    console.log(`bench: written to docs/performance.md (${results.seconds.toFixed(0)} s)`);
  }
  if (results.failures.length > 0) {
    console.log(`bench: ${results.failures.length} benchmark(s) broke: ${results.failures.join("; ")}`);
    process.exitCode = 1;
  }
  console.log(summaryLine(results));
}

const job = process.env.BENCH_JOB;
if (job) await childMain(JSON.parse(job) as Job);
else await main();
