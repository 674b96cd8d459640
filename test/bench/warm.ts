/**
 * Warm overhead: the real Lambda entry point (functions/handler.ts), bundled as deployed (bundles.ts: esbuild with
 * the construct's options, `@aws-sdk/*` external and resolved from node_modules), imported and invoked in-process
 * with HTTP API (payload 2.0) events, against the bench backend in another process, alternating with the same
 * JSON-RPC request sent straight to that backend with fetch. Latency is wall time per request; CPU is
 * process.cpuUsage() around each request, so "gateway CPU besides the backend hop" = CPU per gateway invocation - CPU
 * per direct request (the client side of the HTTP exchange is in both; the backend's CPU is in neither).
 *
 * Modes (one per process, since the handler reads its configuration once, when imported):
 * - echo:    walkthrough policy, the boss calls `echo`; logging silenced. Also a fresh token per request, the peak
 *            RSS, and the gateway's own compute with the backend answered in-process (no sockets), with a CPU
 *            profile of it.
 * - logging: the same echo calls with logging and metrics on, as deployed (output to /dev/null), and the same
 *            in-process measurement: what logging costs.
 * - lists:   a generated 200-rule policy, `tools/list` answered with 100 / 1,000 / 10,000 tools.
 * - cpu-share: the echo calls (logging silenced), the gateway alone, in blocks alternately free and with this
 *            process limited to a share of one CPU (cpu-share.ts), as Lambda limits a function by its memory.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { JsonWebKey } from "node:crypto";
import { publicJwk } from "../../functions/demo/identity-provider.js";
import { httpApiEvent, lambdaContext } from "../support/api-gateway-events.js";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { AUDIENCE, ISSUER, startIdentityProvider } from "../support/identity-provider.js";
import { startBenchBackend } from "./backend.js";
import { BENCH_ROLES, BENCH_SUBJECT, ECHO_TEXT, clientHeaders, echoCall, generatedPolicy, toolsListCall } from "./fixtures.js";
import { calibrate, type Calibration } from "./calibration.js";
import { measureCpuShare, type CpuShareOptions, type CpuShareStats } from "./cpu-share.js";
import { floorHandler, type FloorKind } from "./floor.js";
import { withBackendInProcess } from "./in-process-backend.js";
import { profileWhile, type ProfileSummary } from "./profile.js";
import { mean, percentile } from "./stats.js";

export type WarmMode = "echo" | "logging" | "lists" | "cpu-share";

export interface WarmOptions {
  mode: WarmMode;
  /** Measured gateway requests (as many direct ones alternate with them). */
  requests: number;
  warmup: number;
  /** Gateway requests with a freshly minted token each (echo mode); 0 to skip. */
  freshTokens: number;
  /** Gateway invocations measured, then profiled, with the backend answered in-process (echo mode); 0 to skip. */
  computeRequests: number;
  /** Write the raw .cpuprofile here. */
  profileFile?: string;
  /** The Lambda bundle to import (bundles.ts: buildBenchBundles), its source map beside it. */
  bundle: string;
  /** cpu-share mode: the share and the blocks measured (`requests` is unused there). */
  cpuShare?: CpuShareOptions;
}

export interface PairStats {
  requests: number;
  gatewayP50Ms: number;
  gatewayP99Ms: number;
  directP50Ms: number;
  directP99Ms: number;
  ratioP50: number;
  ratioP99: number;
  /** Mean CPU per request, microseconds. */
  gatewayCpuUs: number;
  directCpuUs: number;
  /** gatewayCpuUs - directCpuUs. */
  overheadCpuUs: number;
}

export interface ListStats extends PairStats {
  tools: number;
  rules: number;
  /** Tools left in the caller's list after filtering. */
  kept: number;
}

export interface WarmResult {
  mode: WarmMode;
  /** The token every request carried (the fresh-token run aside). */
  token: string;
  sameToken?: PairStats;
  freshToken?: PairStats;
  lists?: ListStats[];
  /** Peak RSS of this process (handler, harness, identity provider), MB; and after a forced GC at the end. */
  maxRssMb: number;
  rssAfterGcMb: number;
  heapUsedAfterGcMb: number;
  /** JWKS requests the identity provider served (keys are fetched once at init, then held). */
  jwksRequests: number;
  /** The gateway's own compute: CPU and latency per invocation with the backend answered in-process (echo mode). */
  computeOnly?: {
    invocations: number;
    cpuUs: number;
    p50Ms: number;
    p99Ms: number;
    /** The same invocations by the minimal programs of floor.ts: Node's parts only, and through web Request/Response. */
    floorNodeCpuUs?: number;
    floorWebCpuUs?: number;
  };
  /** A CPU profile of as many such invocations. */
  profile?: ProfileSummary;
  /** The machine's yardsticks, measured after everything else (echo mode). */
  calibration?: Calibration;
  /** Gateway latency free and at a share of one CPU (cpu-share mode). */
  cpuShare?: CpuShareStats;
}

const DOMAIN = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
const WALKTHROUGH_POLICY = fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url));
const LIST_SIZES = [100, 1_000, 10_000];
const LIST_RULES = 200;

type Handler = (typeof import("../../functions/handler.js"))["handler"];

interface Sample {
  ms: number;
  cpuUs: number;
  body: string;
  status: number;
}

async function timed(work: () => Promise<{ status: number; body: string }>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const { status, body } = await work();
  const ms = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  return { ms, cpuUs: used.user + used.system, status, body };
}

function pairStats(gateway: Sample[], direct: Sample[]): PairStats {
  const [g, d] = [gateway.map((s) => s.ms), direct.map((s) => s.ms)];
  const gatewayCpuUs = mean(gateway.map((s) => s.cpuUs));
  const directCpuUs = mean(direct.map((s) => s.cpuUs));
  return {
    requests: gateway.length,
    gatewayP50Ms: percentile(g, 50),
    gatewayP99Ms: percentile(g, 99),
    directP50Ms: percentile(d, 50),
    directP99Ms: percentile(d, 99),
    ratioP50: percentile(g, 50) / percentile(d, 50),
    ratioP99: percentile(g, 99) / percentile(d, 99),
    gatewayCpuUs,
    directCpuUs,
    overheadCpuUs: gatewayCpuUs - directCpuUs,
  };
}

function check(sample: Sample, what: string, expected: string): void {
  if (sample.status !== 200 || !sample.body.includes(expected)) {
    throw new Error(`${what}: unexpected answer ${sample.status} ${sample.body.slice(0, 300)}`);
  }
}

export async function runWarm(options: WarmOptions): Promise<WarmResult> {
  const policyDir = await mkdtemp(join(tmpdir(), "bench-policy-"));
  const [idp, backend] = await Promise.all([startIdentityProvider(), startBenchBackend()]);
  try {
    let policyFile = WALKTHROUGH_POLICY;
    if (options.mode === "lists") {
      policyFile = join(policyDir, "policy.yaml");
      await writeFile(policyFile, generatedPolicy(LIST_RULES).yaml);
    }
    setFunctionEnvironment({ MCP_BACKEND_URL: backend.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URI: idp.jwksUri, POLICY_FILE: policyFile });
    if (options.mode !== "logging") {
      // Powertools Logger and Metrics write to stdout; silenced so the figures measure the gateway, not the logging.
      process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
      process.env.POWERTOOLS_METRICS_DISABLED = "true";
    }
    // The module reads its configuration and warms up (keys, policy) when imported, as on a Lambda cold start. It is
    // the bundle the function deploys, not the sources through tsx (whose transform wraps functions in naming calls).
    const { handler } = (await import(pathToFileURL(options.bundle).href)) as { handler: Handler };
    const claims = options.mode === "lists" ? { roles: BENCH_ROLES } : { roles: ["admin"] };
    const subject = options.mode === "lists" ? BENCH_SUBJECT : "pointy-haired-boss";
    const token = await idp.token({ subject, claims, expiresIn: "1h" });

    /** One invocation, its event and context made beforehand: API Gateway and the Lambda runtime make them. */
    const invocation = (body: string, bearer: string) => {
      const event = httpApiEvent({ method: "POST", path: "/mcp", headers: clientHeaders(bearer), body }, { domainName: DOMAIN, stage: "$default" });
      const context = lambdaContext();
      return async () => {
        const result = await handler(event, context);
        return { status: result.statusCode ?? 200, body: typeof result.body === "string" ? result.body : "" };
      };
    };
    const viaGateway = (body: string, bearer: string) => timed(invocation(body, bearer));
    /** The floor's n invocations' mean CPU (floor.ts), after as many warm-up ones. */
    const floorCpuUs = async (kind: FloorKind, n: number) => {
      const floor = floorHandler(kind, backend.url, token, new Set(["echo"]));
      const run = (i: number) => {
        const event = httpApiEvent({ method: "POST", path: "/mcp", headers: clientHeaders(token), body: echoCall(i) }, { domainName: DOMAIN, stage: "$default" });
        return timed(async () => floor(event).then((r) => ({ status: r.statusCode, body: r.body })));
      };
      for (let i = 0; i < n; i++) check(await run(i), `floor (${kind})`, ECHO_TEXT);
      globalThis.gc?.();
      const samples: Sample[] = [];
      for (let i = 0; i < n; i++) samples.push(await run(i));
      samples.forEach((sample) => check(sample, `floor (${kind})`, ECHO_TEXT));
      return mean(samples.map((sample) => sample.cpuUs));
    };
    const directCall = (body: string) => {
      const headers = clientHeaders();
      return timed(async () => {
        const response = await fetch(backend.url, { method: "POST", headers, body });
        return { status: response.status, body: await response.text() };
      });
    };

    /** n gateway and n direct requests, alternating, the order swapped every other pair. */
    async function alternate(n: number, body: (i: number) => string, bearer: (i: number) => string, expected: string) {
      const gateway: Sample[] = [];
      const straight: Sample[] = [];
      for (let i = 0; i < n; i++) {
        if (i % 2 === 0) {
          gateway.push(await viaGateway(body(i), bearer(i)));
          straight.push(await directCall(body(i)));
        } else {
          straight.push(await directCall(body(i)));
          gateway.push(await viaGateway(body(i), bearer(i)));
        }
        check(gateway[i] as Sample, "gateway", expected);
        check(straight[i] as Sample, "backend", expected);
      }
      return { gateway, straight };
    }

    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()) as { alg?: string };
    const described = `${header.alg}, sub ${subject}, roles ${JSON.stringify(claims.roles)}, 1 h, ${token.length} bytes`;
    const result: Partial<WarmResult> = { mode: options.mode, token: described };
    if (options.mode === "lists") {
      result.lists = [];
      for (const tools of LIST_SIZES) {
        const body = () => toolsListCall(1, tools);
        await alternate(3, body, () => token, '"tools"');
        // As many pairs as fit in about 4 seconds, at least 5.
        const started = performance.now();
        const gateway: Sample[] = [];
        const straight: Sample[] = [];
        while (gateway.length < 5 || (gateway.length < options.requests && performance.now() - started < 4_000)) {
          const pair = await alternate(2, body, () => token, '"tools"');
          gateway.push(...pair.gateway);
          straight.push(...pair.straight);
        }
        const kept = (JSON.parse((gateway[0] as Sample).body) as { result: { tools: unknown[] } }).result.tools.length;
        result.lists.push({ tools, rules: LIST_RULES, kept, ...pairStats(gateway, straight) });
      }
    } else if (options.mode === "cpu-share") {
      if (!options.cpuShare) throw new Error("cpu-share mode needs its cpuShare options");
      // The backend was started above, so it is not in the limited cgroup: only this process, the gateway's, is.
      await alternate(options.warmup, (i) => echoCall(i), () => token, ECHO_TEXT);
      globalThis.gc?.();
      result.cpuShare = await measureCpuShare(async (i) => {
        const sample = await viaGateway(echoCall(i), token);
        check(sample, "gateway", ECHO_TEXT);
        return sample;
      }, options.cpuShare);
    } else {
      await alternate(options.warmup, (i) => echoCall(i), () => token, ECHO_TEXT);
      globalThis.gc?.();
      const same = await alternate(options.requests, (i) => echoCall(i), () => token, ECHO_TEXT);
      result.sameToken = pairStats(same.gateway, same.straight);
      if (options.freshTokens > 0) {
        const fresh = await Promise.all(Array.from({ length: options.freshTokens }, () => idp.token({ subject, claims, expiresIn: "1h" })));
        globalThis.gc?.();
        const run = await alternate(options.freshTokens, (i) => echoCall(i), (i) => fresh[i] as string, ECHO_TEXT);
        result.freshToken = pairStats(run.gateway, run.straight);
      }
    }
    result.maxRssMb = process.resourceUsage().maxRSS / 1024;
    if ((options.mode === "echo" || options.mode === "logging") && options.computeRequests > 0) {
      const n = options.computeRequests;
      const answer = (await directCall(echoCall(0))).body;
      const { value, intercepted } = await withBackendInProcess(backend.url, answer, async () => {
        for (let i = 0; i < options.warmup; i++) check(await viaGateway(echoCall(i), token), "gateway", ECHO_TEXT);
        globalThis.gc?.();
        const samples: Sample[] = [];
        for (let i = 0; i < n; i++) samples.push(await viaGateway(echoCall(i), token));
        samples.forEach((sample) => check(sample, "gateway", ECHO_TEXT));
        if (options.mode !== "echo") return { samples, profile: undefined, floors: undefined };
        const floors = { node: await floorCpuUs("node", n), web: await floorCpuUs("web", n) };
        const runs = Array.from({ length: n }, (_, i) => invocation(echoCall(i), token));
        const profile = await profileWhile(n, async () => {
          for (const run of runs) check({ ms: 0, cpuUs: 0, ...(await run()) }, "gateway", ECHO_TEXT);
        }, { saveTo: options.profileFile, bundle: options.bundle });
        return { samples, profile, floors };
      });
      if (intercepted >= options.warmup + (value.floors ? 6 : 1) * n) {
        const ms = value.samples.map((sample) => sample.ms);
        result.computeOnly = { invocations: n, cpuUs: mean(value.samples.map((sample) => sample.cpuUs)), p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), floorNodeCpuUs: value.floors?.node, floorWebCpuUs: value.floors?.web };
        result.profile = value.profile;
      }
    }
    if (options.mode === "echo") result.calibration = calibrate(token, publicJwk(idp.key) as JsonWebKey);
    globalThis.gc?.();
    const memory = process.memoryUsage();
    result.rssAfterGcMb = memory.rss / 2 ** 20;
    result.heapUsedAfterGcMb = memory.heapUsed / 2 ** 20;
    result.jwksRequests = idp.jwksRequests();
    return result as WarmResult;
  } finally {
    await Promise.all([backend.close(), idp.close(), rm(policyDir, { recursive: true, force: true })]);
  }
}
