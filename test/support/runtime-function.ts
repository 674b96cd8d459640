/**
 * One deployed Lambda function, locally: its entry point bundled as the stack bundles it (function-bundle.ts), run
 * by AWS's runtime client in a Node 22 process (lambda-runtime-client.ts) against its own Runtime API
 * (lambda-runtime-api.ts). Invocations go in as events; what comes back is read as the front door would read it:
 * a buffered result, or a streamed prelude and body.
 */
import type { FunctionBundle } from "./function-bundle.js";
import { buildFunctionBundle } from "./function-bundle.js";
import { startRuntimeApi, type Invocation, type InvokeOptions, type RuntimeApi } from "./lambda-runtime-api.js";
import { startFunctionProcess, type FunctionProcess } from "./lambda-runtime-client.js";

export interface RuntimeFunction {
  runtimeApi: RuntimeApi;
  process: FunctionProcess;
  invoke(event: unknown, options?: InvokeOptions): Promise<Invocation>;
  /** The function's JSON log lines (Powertools' and the runtime client's), in order. */
  logLines(): Record<string, unknown>[];
  /** Its access-log lines (those with a status), all or those of one invocation. */
  accessLog(requestId?: string): Record<string, unknown>[];
  close(): Promise<void>;
}

/** Builds and starts the function; resolves once it is started (not necessarily initialised: see `runtimeApi`). */
export async function startRuntimeFunction(entry: string, environment: Record<string, string>): Promise<RuntimeFunction> {
  let bundle: FunctionBundle | undefined;
  let runtimeApi: RuntimeApi | undefined;
  try {
    [bundle, runtimeApi] = await Promise.all([buildFunctionBundle(entry), startRuntimeApi()]);
  } catch (err) {
    await Promise.all([bundle?.remove(), runtimeApi?.close()]);
    throw err;
  }
  const api = runtimeApi;
  const built = bundle;
  const process = startFunctionProcess(api, built, environment);
  const logLines = () => process.lines.flatMap((line) => (line.json ? [line.json] : []));
  return {
    runtimeApi: api,
    process,
    // A process that dies mid-invocation never asks for the next one: say so at once, with what it last wrote.
    invoke: (event, options) =>
      Promise.race([
        api.invoke(event, options),
        process.exited.then(({ code, signal }) => {
          const last = process.lines.slice(-30).map((line) => `  ${line.text}`).join("\n");
          throw new Error(`the function process exited (code ${code}, signal ${signal}) during the invocation; it last wrote:\n${last}`);
        }),
      ]),
    logLines,
    accessLog: (requestId) =>
      logLines().filter((line) => "status" in line && "httpMethod" in line && (requestId === undefined || line.function_request_id === requestId)),
    async close() {
      await process.stop();
      await Promise.all([api.close(), built.remove()]);
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the client gets from an invocation: the buffered result's, or the streamed prelude's status, headers and body. */
export function replyOf(invocation: Invocation): Reply {
  if (invocation.streamed) {
    const { prelude, body } = invocation.streamed;
    return { status: prelude?.statusCode ?? 200, headers: lowerCased(prelude?.headers ?? {}), body };
  }
  const result = (invocation.result ?? {}) as { statusCode?: number; headers?: Record<string, unknown>; body?: string; isBase64Encoded?: boolean };
  const raw = result.body ?? "";
  return {
    status: result.statusCode ?? 200,
    headers: lowerCased(result.headers ?? {}),
    body: result.isBase64Encoded ? Buffer.from(raw, "base64").toString() : raw,
  };
}

function lowerCased(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
}
