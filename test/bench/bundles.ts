/**
 * Builds the Lambda bundle the way the CDK construct does. The options are read from the `bundling` block of
 * lib/mcp-sso-gateway.ts each run (format, target, minify, sourceMap, mainFields, banner, externalModules,
 * bundleAwsSDK; and the function's NODE_OPTIONS), and NodejsFunction's defaults fill in the rest (platform node; `@aws-sdk/*` external on the Node 22
 * runtime, which provides the SDK). Options the harness does not mirror are reported, so a change there is seen.
 */
import { mkdir, readFile, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Metafile } from "esbuild";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CONSTRUCT = join(ROOT, "lib/mcp-sso-gateway.ts");
export const ENTRY = join(ROOT, "functions/handler.ts");
const MIRRORED = new Set(["format", "target", "minify", "sourceMap", "mainFields", "banner", "externalModules", "bundleAwsSDK"]);

export interface BundlingOptions {
  format: "esm" | "cjs";
  target: string;
  minify: boolean;
  sourceMap: boolean;
  mainFields: string[] | undefined;
  banner: string | undefined;
  /** What NodejsFunction leaves out of the bundle (the runtime provides it). */
  external: string[];
  /** The NODE_OPTIONS the construct gives the function (e.g. --enable-source-maps), as node arguments. */
  nodeOptions: string[];
  /** Problems reading the construct: options not mirrored, or not found. */
  warnings: string[];
}

function strings(list: string): string[] {
  return [...list.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => (m[1] ?? m[2]) as string);
}

export async function bundlingOptions(): Promise<BundlingOptions> {
  const source = await readFile(CONSTRUCT, "utf8");
  const block = /\bbundling:\s*\{([\s\S]*?)\n\s*\},?\n/.exec(source)?.[1];
  const warnings: string[] = [];
  if (block === undefined) warnings.push("no `bundling` block found in lib/mcp-sso-gateway.ts; NodejsFunction defaults assumed");
  const text = block ?? "";
  for (const [, key] of text.matchAll(/^\s*(\w+)\s*:/gm)) {
    if (!MIRRORED.has(key as string)) warnings.push(`bundling option \`${key}\` is not mirrored by the benchmark`);
  }
  const banner = /banner:\s*("(?:[^"\\]|\\.)*")/.exec(text)?.[1];
  const mainFields = /mainFields:\s*\[([^\]]*)\]/.exec(text)?.[1];
  const externalModules = /externalModules:\s*\[([^\]]*)\]/.exec(text)?.[1];
  const bundleAwsSdk = /bundleAwsSDK:\s*true/.test(text);
  const nodeOptions = /NODE_OPTIONS:\s*"([^"]*)"/.exec(source)?.[1];
  return {
    format: /format:\s*nodejs\.OutputFormat\.CJS/.test(text) ? "cjs" : /format:\s*nodejs\.OutputFormat\.ESM/.test(text) ? "esm" : "cjs",
    target: /target:\s*"([^"]+)"/.exec(text)?.[1] ?? "node22",
    minify: /minify:\s*true/.test(text),
    sourceMap: /sourceMap:\s*true/.test(text),
    mainFields: mainFields === undefined ? undefined : strings(mainFields),
    banner: banner === undefined ? undefined : (JSON.parse(banner) as string),
    // NodejsFunction: externalModules replaces the default; the default is @aws-sdk/* unless bundleAwsSDK.
    external: externalModules !== undefined ? strings(externalModules) : bundleAwsSdk ? [] : ["@aws-sdk/*"],
    nodeOptions: nodeOptions ? nodeOptions.split(/\s+/).filter(Boolean) : [],
    warnings,
  };
}

export interface BuiltBundle {
  file: string;
  bytes: number;
  mapBytes: number;
  metafile: Metafile;
}

/**
 * Bundles `entry` into `dir/index.mjs` (or .js) with the construct's options; `bundleSdk` overrides the externals
 * to bundle everything. `dir` gets a node_modules link to the project's, so external packages resolve as on Lambda.
 */
export async function bundle(entry: string, dir: string, options: BundlingOptions, bundleSdk: boolean): Promise<BuiltBundle> {
  await mkdir(dir, { recursive: true });
  await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir").catch(() => undefined);
  const file = join(dir, options.format === "esm" ? "index.mjs" : "index.js");
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: options.format,
    target: options.target,
    minify: options.minify,
    sourcemap: options.sourceMap,
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
