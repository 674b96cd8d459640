/**
 * The official reference server, @modelcontextprotocol/server-everything (Streamable HTTP, built on the 1.x SDK), as
 * a child process, with a recording relay in front of it: the relay is what the gateway talks to, and it records
 * every tool call, prompt get and resource read that reached the server, so a test can assert on what the backend
 * was asked to run. Clients connecting directly use the server's own address and are not recorded.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { serveFetch } from "../../functions/adapters/node-server.js";
import type { Executed } from "./backend.js";
import { freePort } from "./ports.js";

const EVERYTHING_MAIN = join(
  dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/package.json")),
  "dist/index.js",
);

export interface EverythingServer {
  /** The server's own MCP endpoint (direct connections). */
  directUrl: string;
  /** The recording relay's endpoint (the gateway's backend). */
  url: string;
  /** Every tool call, prompt get and resource read relayed to the server, in order. */
  executed: Executed[];
  /** Every JSON-RPC message relayed to the server (requests, notifications, responses), in order. */
  received: Received[];
  stop(): Promise<void>;
}

export interface Received {
  /** The message's method; undefined for a response to a request of the server's. */
  method?: string;
  params?: Record<string, unknown>;
}

const HOP_BY_HOP = ["host", "connection", "keep-alive", "content-length", "transfer-encoding"];
const EXECUTING: Record<string, [Executed["kind"], string]> = {
  "tools/call": ["tool", "name"],
  "prompts/get": ["prompt", "name"],
  "resources/read": ["resource", "uri"],
};

function record(executed: Executed[], received: Received[], body: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return;
  }
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    const { method, params } = (message ?? {}) as { method?: string; params?: Record<string, unknown> };
    received.push({ ...(method === undefined ? {} : { method }), ...(params === undefined ? {} : { params }) });
    const executing = method === undefined ? undefined : EXECUTING[method];
    if (!executing || !params) continue;
    const [kind, field] = executing;
    executed.push({ kind, name: String(params[field]), ...(kind === "tool" ? { arguments: params.arguments } : {}) });
  }
}

/** A relayed stream that just ends when its source breaks off (a client closing its SSE stream), instead of failing. */
function quietlyEnding(source: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch {
        controller.close();
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * `dist/index.js streamableHttp` serves /mcp on `PORT`. The child gets a minimal environment: the server has a
 * `get-env` tool, and `GZIP_ALLOWED_DOMAINS` keeps its gzip tool from fetching anything over the network.
 */
export async function startEverything(): Promise<EverythingServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [EVERYTHING_MAIN, "streamableHttp"], {
    env: { PATH: process.env.PATH ?? "", PORT: String(port), GZIP_ALLOWED_DOMAINS: "example.invalid" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const directUrl = `http://127.0.0.1:${port}/mcp`;
  const stopChild = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server-everything exited with ${child.exitCode}: ${stderr}`);
    // A GET without a session id is answered (400) once the server is up.
    const status = await fetch(directUrl).then((r) => r.status, () => undefined);
    if (status !== undefined) break;
    if (Date.now() > deadline) {
      await stopChild();
      throw new Error(`server-everything did not answer on ${directUrl} within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const executed: Executed[] = [];
  const received: Received[] = [];
  const relay = await serveFetch(
    async (request) => {
      const headers = new Headers(request.headers);
      for (const name of HOP_BY_HOP) headers.delete(name);
      const body = request.method === "POST" ? await request.text() : undefined;
      if (body !== undefined) record(executed, received, body);
      const upstream = await fetch(directUrl, { method: request.method, headers, body, signal: request.signal });
      const responseHeaders = new Headers(upstream.headers);
      for (const name of HOP_BY_HOP) responseHeaders.delete(name);
      return new Response(upstream.body && quietlyEnding(upstream.body), { status: upstream.status, headers: responseHeaders });
    },
    { port: 0 },
  );
  return {
    directUrl,
    url: `${relay.url}/mcp`,
    executed,
    received,
    async stop() {
      await relay.close();
      await stopChild();
    },
  };
}
