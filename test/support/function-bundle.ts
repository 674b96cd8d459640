/**
 * Builds a Lambda entry point into the bundle the stack deploys: esbuild with the construct's own options
 * (lib/function-bundling.ts) and NodejsFunction's defaults for the rest (platform node, `@aws-sdk/*` left out because
 * the Node 22 runtime provides it), written as `index.mjs` with its source map, as NodejsFunction names an ESM bundle.
 * An option this file does not know how to pass on fails the build, so the bundle under test cannot silently differ
 * from the deployed one.
 */
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { FUNCTION_BUNDLING } from "../../lib/function-bundling.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BUFFERED_ENTRY = join(ROOT, "functions/handler.ts");
export const STREAMING_ENTRY = join(ROOT, "functions/streaming-handler.ts");

const PASSED_ON = new Set(["format", "target", "minify", "sourceMap", "keepNames", "mainFields", "banner", "externalModules"]);

export interface FunctionBundle {
  /** The folder holding index.mjs: the function's LAMBDA_TASK_ROOT. */
  taskRoot: string;
  /** The handler setting (`_HANDLER`), as the construct gives it. */
  handler: string;
  remove(): Promise<void>;
}

/**
 * Bundles `entry` into a fresh folder. The folder gets a node_modules link to the project's, so the packages left
 * out of the bundle resolve as on Lambda from the runtime's own.
 */
export async function buildFunctionBundle(entry: string): Promise<FunctionBundle> {
  const options: Record<string, unknown> = FUNCTION_BUNDLING;
  const unknown = Object.keys(options).filter((key) => !PASSED_ON.has(key));
  if (unknown.length > 0) throw new Error(`bundling options not passed on to esbuild by test/support/function-bundle.ts: ${unknown.join(", ")}`);
  const taskRoot = await mkdtemp(join(tmpdir(), "mcp-gateway-function-"));
  await symlink(join(ROOT, "node_modules"), join(taskRoot, "node_modules"), "dir");
  const bundling = FUNCTION_BUNDLING as typeof FUNCTION_BUNDLING & { externalModules?: string[] };
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: bundling.format,
    target: bundling.target,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    keepNames: bundling.keepNames,
    mainFields: bundling.mainFields,
    banner: { js: bundling.banner },
    external: bundling.externalModules ?? ["@aws-sdk/*"],
    outfile: join(taskRoot, "index.mjs"),
    logLevel: "error",
  });
  return { taskRoot, handler: "index.handler", remove: () => rm(taskRoot, { recursive: true, force: true }) };
}
