/**
 * Cold start: the deployed bundle's size (AWS SDK external, as deployed on Node 22, and bundled), and module
 * initialisation time in fresh processes against two baselines built and run the same way (an empty module, and a
 * module that only imports @aws-sdk/client-ssm), plus a check that keys, policy and session key are fetched in
 * parallel while the function initialises.
 *
 * Each fresh process runs `node <the function's NODE_OPTIONS> timer.mjs <bundle>`: timer.mjs takes performance.now() (ms
 * since the process started), awaits import() of the bundle (which for the gateway includes its top-level
 * `await gateway.warmUp()`), takes performance.now() again and prints both and the process's peak RSS.
 * "init" = the import alone; "since start" adds Node's own start-up. Variants run round-robin, `runs` rounds.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AUDIENCE, ISSUER } from "../support/identity-provider.js";
import { ENTRY, bundle, bundlingOptions, bytesByPackage, type BuiltBundle } from "./bundles.js";
import { POLICY_SSM_PATH, SESSION_SECRET_ID, startInitServers, type InitServers } from "./init-servers.js";
import { median } from "./stats.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WALKTHROUGH_POLICY = fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url));
const TIMER = `const start = performance.now();
await import(process.argv[2]);
const end = performance.now();
console.log("BENCH_INIT " + JSON.stringify({ start, end, maxRssKb: process.resourceUsage().maxRSS }));
process.exit(0);
`;
const SSM_ONLY = `import { SSMClient, GetParametersByPathCommand } from "@aws-sdk/client-ssm";
export const handler = async () => new SSMClient({}).send(new GetParametersByPathCommand({ Path: "/" }));
`;
/** The two SDK clients the gateway's code imports (policy and secrets), and nothing else: its SDK floor. */
const SDK_CLIENTS = `${SSM_ONLY}import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
export const secret = async () => new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: "x" }));
`;
/** Injected delay for the parallelism check, ms. */
export const INIT_DELAY_MS = 200;

export interface InitFigure {
  name: string;
  /** Median ms of the import alone; median ms since process start; median peak RSS, MB. */
  initMs: number;
  sinceStartMs: number;
  maxRssMb: number;
  runs: number[];
}

export const GATEWAY_INIT = "gateway (SDK from node_modules)";
export const SSM_ONLY_INIT = "SSM-only module (SDK from node_modules)";

export interface ColdStartResult {
  /** Init of the gateway / init of the SSM-only module, both SDK external: the median of the ratios of each round. */
  initRatio: number;
  bundleKb: number;
  bundleMapKb: number;
  bundleWithSdkKb: number;
  ssmOnlyBundledKb: number;
  largestPackages: Array<{ name: string; kb: number }>;
  bundling: { external: string[]; warnings: string[]; flags: string; nodeOptions: string[] };
  init: InitFigure[];
  parallel: {
    /** Arrival of each request, ms after the first one, per run. */
    arrivals: Array<Record<string, number>>;
    delayedInitMs: number;
    undelayedInitMs: number;
    parallel: boolean;
  };
}

interface Variant {
  name: string;
  file: string;
  /** Node arguments: the function's NODE_OPTIONS (e.g. --enable-source-maps), or none. */
  flags: string[];
  env: Record<string, string>;
}

function runInit(dir: string, variant: Variant): Promise<{ start: number; end: number; maxRssKb: number }> {
  const args = [...variant.flags, join(dir, "timer.mjs"), variant.file];
  const child = spawn(process.execPath, args, { cwd: dir, env: { PATH: process.env.PATH ?? "", ...variant.env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill(), 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("BENCH_INIT "));
      if (code !== 0 || !line) return reject(new Error(`${variant.name}: init failed (exit ${code}): ${err || out}`.slice(0, 2000)));
      resolve(JSON.parse(line.slice("BENCH_INIT ".length)) as { start: number; end: number; maxRssKb: number });
    });
  });
}

export async function runColdStart(options: { runs: number }): Promise<ColdStartResult> {
  const dir = await mkdtemp(join(tmpdir(), "bench-cold-"));
  const policyYaml = await readFile(WALKTHROUGH_POLICY, "utf8");
  let servers: InitServers | undefined;
  try {
    const bundling = await bundlingOptions();
    // The baselines' sources live here too, and must resolve @aws-sdk/client-ssm from the project's node_modules.
    await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    await writeFile(join(dir, "timer.mjs"), TIMER);
    await writeFile(join(dir, "empty.mjs"), "export {};\n");
    await writeFile(join(dir, "ssm-only.mjs"), SSM_ONLY);
    await writeFile(join(dir, "sdk-clients.mjs"), SDK_CLIENTS);
    const built = async (name: string, entry: string, bundleSdk: boolean): Promise<BuiltBundle> => bundle(entry, join(dir, name), bundling, bundleSdk);
    const [gateway, gatewayWithSdk, empty, ssm, ssmWithSdk, clients] = await Promise.all([
      built("gateway", ENTRY, false),
      built("gateway-sdk", ENTRY, true),
      built("empty", join(dir, "empty.mjs"), false),
      built("ssm", join(dir, "ssm-only.mjs"), false),
      built("ssm-sdk", join(dir, "ssm-only.mjs"), true),
      built("sdk-clients", join(dir, "sdk-clients.mjs"), false),
    ]);

    servers = await startInitServers(policyYaml);
    const fileEnv = {
      MCP_BACKEND_URL: "http://127.0.0.1:9/mcp", JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URI: servers.jwksUri, POLICY_FILE: WALKTHROUGH_POLICY,
    };
    const { POLICY_FILE: _file, ...rest } = fileEnv;
    const deployedEnv = {
      ...rest,
      POLICY_SSM_PATH,
      SESSION_KEY_SECRET_ID: SESSION_SECRET_ID,
      AWS_REGION: "eu-west-1",
      AWS_ACCESS_KEY_ID: "bench",
      AWS_SECRET_ACCESS_KEY: "bench",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_SSM: servers.awsEndpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: servers.awsEndpoint,
    };
    const flags = bundling.nodeOptions;
    const variants: Variant[] = [
      { name: "empty module", file: empty.file, flags, env: {} },
      { name: SSM_ONLY_INIT, file: ssm.file, flags, env: {} },
      { name: "SSM-only module (SDK bundled)", file: ssmWithSdk.file, flags, env: {} },
      { name: GATEWAY_INIT, file: gateway.file, flags, env: fileEnv },
      { name: "gateway (SDK bundled)", file: gatewayWithSdk.file, flags, env: fileEnv },
      { name: "gateway, SSM policy + Secrets Manager session key", file: gateway.file, flags, env: deployedEnv },
      ...(flags.length > 0 ? [{ name: `gateway (SDK from node_modules), without ${flags.join(" ")}`, file: gateway.file, flags: [], env: fileEnv }] : []),
      { name: "SSM + Secrets Manager clients only (SDK from node_modules)", file: clients.file, flags, env: {} },
    ];
    const samples = new Map<string, Array<{ start: number; end: number; maxRssKb: number }>>(variants.map((v) => [v.name, []]));
    for (const variant of variants) await runInit(dir, variant); // an unmeasured round warms the file cache
    for (let round = 0; round < options.runs; round++) {
      for (const variant of variants) samples.get(variant.name)?.push(await runInit(dir, variant));
    }
    const gatewayRuns = samples.get(GATEWAY_INIT) ?? [];
    const ssmRuns = samples.get(SSM_ONLY_INIT) ?? [];
    const initRatio = median(gatewayRuns.map((g, i) => (g.end - g.start) / ((ssmRuns[i]?.end ?? NaN) - (ssmRuns[i]?.start ?? NaN))));
    const init = variants.map(({ name }) => {
      const runs = samples.get(name) ?? [];
      return {
        name,
        initMs: median(runs.map((r) => r.end - r.start)),
        sinceStartMs: median(runs.map((r) => r.end)),
        maxRssMb: median(runs.map((r) => r.maxRssKb / 1024)),
        runs: runs.map((r) => r.end - r.start),
      };
    });

    // Parallelism: every dependency answers after INIT_DELAY_MS. In parallel, init grows by about one delay; in
    // sequence, by one per dependency. Delayed and undelayed runs alternate, so both see the same machine.
    const arrivals: Array<Record<string, number>> = [];
    const [delayed, undelayed]: [number[], number[]] = [[], []];
    const deployed = variants.find((v) => v.env === deployedEnv) as Variant;
    for (let run = 0; run < Math.max(3, Math.ceil(options.runs / 2)); run++) {
      servers.delayMs = 0;
      const plain = await runInit(dir, deployed);
      undelayed.push(plain.end - plain.start);
      servers.delayMs = INIT_DELAY_MS;
      servers.arrivals = [];
      const slow = await runInit(dir, deployed);
      delayed.push(slow.end - slow.start);
      const first = Math.min(...servers.arrivals.map((a) => a.at));
      arrivals.push(Object.fromEntries(servers.arrivals.map((a) => [a.what, Math.round((a.at - first) * 10) / 10])));
    }
    const delayedInitMs = median(delayed);
    const undelayedInitMs = median(undelayed);
    // Every request was sent before the first answer could come back: the fetches overlap.
    const spread = Math.max(...arrivals.map((a) => Math.max(...Object.values(a))));
    const allThree = arrivals.every((a) => Object.keys(a).length === 3);
    return {
      initRatio,
      bundleKb: gateway.bytes / 1024,
      bundleMapKb: gateway.mapBytes / 1024,
      bundleWithSdkKb: gatewayWithSdk.bytes / 1024,
      ssmOnlyBundledKb: ssmWithSdk.bytes / 1024,
      largestPackages: bytesByPackage(gateway.metafile, 10),
      bundling: {
        external: bundling.external,
        nodeOptions: bundling.nodeOptions,
        warnings: bundling.warnings,
        flags: `format ${bundling.format}, target ${bundling.target}, minify ${bundling.minify}, sourcemap ${bundling.sourceMap}, mainFields ${bundling.mainFields?.join(",") ?? "default"}, banner ${bundling.banner ? "createRequire" : "none"}`,
      },
      init,
      parallel: {
        arrivals,
        delayedInitMs,
        undelayedInitMs,
        parallel: allThree && spread < INIT_DELAY_MS,
      },
    };
  } finally {
    await servers?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
