/**
 * Builds the Lambda bundle the way the CDK construct does: with the construct's own options (lib/function-bundling.ts:
 * format, target, minify, sourceMap, keepNames, mainFields, banner, externalModules, bundleAwsSDK; and the function's
 * NODE_OPTIONS), and NodejsFunction's defaults for the rest (platform node; `@aws-sdk/*` external on the Node 22
 * runtime, which provides the SDK). Options the harness does not mirror are reported, so a change there is seen.
 *
 * The benchmarks that run the gateway in-process (warm, throughput) import such bundles rather than the TypeScript
 * sources: tsx compiles each source file with esbuild's transform API and `keepNames`, which wraps every function
 * and class in a naming call, so per-request paths would run other code than the function does. Their bundles are
 * written under node_modules/.cache (ignored by git, and left alone by tsx's loader), inside the project, so their
 * bare imports of the external `@aws-sdk/*` resolve from the project's node_modules as on Lambda from the runtime's.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, stat, symlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";
import { FUNCTION_BUNDLING, FUNCTION_NODE_OPTIONS } from "../../lib/function-bundling.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONSTRUCT = join(ROOT, "lib/mcp-sso-gateway.ts");
export const ENTRY = join(ROOT, "functions/handler.ts");
/** What the local-server bundle is built from: what `mcp-sso-gateway serve` runs, as a function (throughput). */
export const SERVER_ENTRY = join(ROOT, "test/bench/local-server-entry.ts");
/** Where the benchmarks' bundles are written: a folder per run, removed when the run ends. */
export const BUNDLE_CACHE = join(ROOT, "node_modules/.cache/mcp-sso-gateway-bench");
const MIRRORED = new Set(["format", "target", "minify", "sourceMap", "keepNames", "mainFields", "banner", "externalModules", "bundleAwsSDK"]);

export interface BundlingOptions {
  format: "esm" | "cjs";
  target: string;
  minify: boolean;
  sourceMap: boolean;
  keepNames: boolean;
  mainFields: string[] | undefined;
  banner: string | undefined;
  /** What NodejsFunction leaves out of the bundle (the runtime provides it). */
  external: string[];
  /** The NODE_OPTIONS the construct gives the function (e.g. --enable-source-maps), as node arguments. */
  nodeOptions: string[];
  /** Problems reading the construct: options not mirrored, or not found. */
  warnings: string[];
}

export async function bundlingOptions(): Promise<BundlingOptions> {
  const options = FUNCTION_BUNDLING as typeof FUNCTION_BUNDLING & { externalModules?: string[]; bundleAwsSDK?: boolean };
  const warnings = Object.keys(options)
    .filter((key) => !MIRRORED.has(key))
    .map((key) => `bundling option \`${key}\` is not mirrored by the benchmark`);
  return {
    format: options.format === "esm" ? "esm" : "cjs",
    target: options.target,
    minify: options.minify,
    sourceMap: options.sourceMap,
    keepNames: options.keepNames,
    mainFields: [...options.mainFields],
    banner: options.banner,
    // NodejsFunction: externalModules replaces the default; the default is @aws-sdk/* unless bundleAwsSDK.
    external: options.externalModules ?? (options.bundleAwsSDK ? [] : ["@aws-sdk/*"]),
    nodeOptions: FUNCTION_NODE_OPTIONS.split(/\s+/).filter(Boolean),
    warnings,
  };
}

/** The Node.js major of the function's Lambda runtime (`runtime: lambda.Runtime.NODEJS_22_X` in the construct). */
export function lambdaNodeMajor(): number | undefined {
  const match = /\bRuntime\.NODEJS_(\d+)_X\b/.exec(readFileSync(CONSTRUCT, "utf8"));
  return match ? Number(match[1]) : undefined;
}

export interface BuiltBundle {
  file: string;
  bytes: number;
  mapBytes: number;
  metafile: Metafile;
}

/**
 * Bundles `entry` into `dir/index.mjs` (or .js) with the construct's options; `bundleSdk` overrides the externals
 * to bundle everything. A `dir` outside the project gets a node_modules link to the project's, so external packages
 * resolve as on Lambda (inside it, they resolve from the project's node_modules anyway).
 */
export async function bundle(entry: string, dir: string, options: BundlingOptions, bundleSdk: boolean): Promise<BuiltBundle> {
  await mkdir(dir, { recursive: true });
  if (relative(ROOT, dir).startsWith("..")) {
    await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir").catch(() => undefined);
  }
  const file = join(dir, options.format === "esm" ? "index.mjs" : "index.js");
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: options.format,
    target: options.target,
    minify: options.minify,
    sourcemap: options.sourceMap,
    keepNames: options.keepNames,
    ...(options.mainFields ? { mainFields: options.mainFields } : {}),
    ...(options.banner ? { banner: { js: options.banner } } : {}),
    external: bundleSdk ? [] : options.external,
    outfile: file,
    metafile: true,
    logLevel: "error",
  });
  const mapBytes = options.sourceMap ? (await stat(`${file}.map`)).size : 0;
  return { file, bytes: (await stat(file)).size, mapBytes, metafile: result.metafile };
}

/** Bytes in the output per package (or project folder), largest first. */
export function bytesByPackage(metafile: Metafile, count: number): Array<{ name: string; kb: number }> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const inModules = path.lastIndexOf("node_modules/");
      let name = path.split("/").slice(0, 2).join("/");
      if (inModules >= 0) {
        const [scope, pkg] = path.slice(inModules + "node_modules/".length).split("/");
        name = scope?.startsWith("@") ? `${scope}/${pkg}` : (scope ?? path);
      }
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].sort(([, a], [, b]) => b - a).slice(0, count).map(([name, bytes]) => ({ name, kb: bytes / 1024 }));
}

/** The bundles a run's in-process benchmarks import: the Lambda function's, and the local server's. */
export interface BenchBundles {
  /** functions/handler.ts bundled as deployed (`@aws-sdk/*` external), and its source map beside it. */
  lambda: string;
  /** test/bench/local-server-entry.ts bundled the same way. */
  server: string;
  /** The folder that holds them, under node_modules/.cache. */
  dir: string;
}

/** Builds the run's bundles into a fresh folder under node_modules/.cache; `removeBenchBundles` deletes it. */
export async function buildBenchBundles(): Promise<BenchBundles> {
  await mkdir(BUNDLE_CACHE, { recursive: true });
  const dir = await mkdtemp(join(BUNDLE_CACHE, "run-"));
  const options = await bundlingOptions();
  const [lambda, server] = await Promise.all([
    bundle(ENTRY, join(dir, "lambda"), options, false),
    bundle(SERVER_ENTRY, join(dir, "local-server"), options, false),
  ]);
  return { lambda: lambda.file, server: server.file, dir };
}

export async function removeBenchBundles(bundles: BenchBundles): Promise<void> {
  await rm(bundles.dir, { recursive: true, force: true });
}
