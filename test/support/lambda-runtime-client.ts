/**
 * Runs a function bundle under AWS's own Node.js Runtime Interface Client (aws-lambda-ric, installed in test/tools
 * with the Node.js 22 it needs), as a child process talking to a local Runtime API (lambda-runtime-api.ts): the
 * runtime Lambda runs, loading the bundle from LAMBDA_TASK_ROOT by `_HANDLER`, providing `awslambda.streamifyResponse`
 * and `HttpResponseStream`, and posting results, streams and errors over HTTP.
 *
 * The process gets the environment Lambda defines for a function (the names the RIC requires, and those documented
 * at https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime, with JSON
 * log format as the stack configures) plus the function's own variables; nothing of the test's own environment leaks
 * in. Every line it writes is kept, with when it arrived.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { FUNCTION_NODE_OPTIONS } from "../../lib/function-bundling.js";
import type { FunctionBundle } from "./function-bundle.js";
import type { RuntimeApi } from "./lambda-runtime-api.js";

const TOOLS = fileURLToPath(new URL("../tools/node_modules/", import.meta.url));
export const LAMBDA_NODE = `${TOOLS}node/bin/node`;
export const RUNTIME_CLIENT = `${TOOLS}aws-lambda-ric/index.mjs`;

export interface WrittenLine {
  /** performance.now() when the line reached this process. */
  at: number;
  stream: "stdout" | "stderr";
  text: string;
  /** The line as JSON, when it is a JSON object (the function's and the runtime's log lines are). */
  json?: Record<string, unknown>;
}

export interface FunctionProcess {
  pid: number;
  lines: WrittenLine[];
  /** True until the process has exited. */
  running(): boolean;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** What Lambda sets for every function on the Node.js 22 runtime, for a function of this name. */
function lambdaEnvironment(runtimeApi: RuntimeApi, bundle: FunctionBundle, functionName: string): Record<string, string> {
  return {
    AWS_LAMBDA_RUNTIME_API: runtimeApi.address,
    _HANDLER: bundle.handler,
    LAMBDA_TASK_ROOT: bundle.taskRoot,
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${"0".repeat(32)}`,
    AWS_LAMBDA_LOG_FORMAT: "JSON",
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
    // Credentials the SDK would find on Lambda; fake, and nothing here calls AWS.
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: "testing",
    NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
    TZ: ":UTC",
    LANG: "en_US.UTF-8",
    PATH: process.env.PATH ?? "/usr/bin:/bin",
  };
}

function collectLines(stream: NodeJS.ReadableStream, name: WrittenLine["stream"], lines: WrittenLine[]): void {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (data: string) => {
    const at = performance.now();
    const parts = (rest + data).split("\n");
    rest = parts.pop() ?? "";
    for (const text of parts) {
      let json: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
      } catch {
        // a text line: kept as text
      }
      lines.push({ at, stream: name, text, ...(json ? { json } : {}) });
    }
  });
}

/** Starts the runtime client on `bundle`, connected to `runtimeApi`, with the function's own `environment`. */
export function startFunctionProcess(
  runtimeApi: RuntimeApi,
  bundle: FunctionBundle,
  environment: Record<string, string>,
  functionName = "mcp-sso-gateway",
): FunctionProcess {
  const child = spawn(LAMBDA_NODE, [RUNTIME_CLIENT], {
    cwd: bundle.taskRoot,
    env: { ...lambdaEnvironment(runtimeApi, bundle, functionName), ...environment },
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`the runtime client could not be started with ${LAMBDA_NODE}`);
  const lines: WrittenLine[] = [];
  collectLines(child.stdout, "stdout", lines);
  collectLines(child.stderr, "stderr", lines);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return {
    pid: child.pid,
    lines,
    running: () => child.exitCode === null && child.signalCode === null,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
