/**
 * The benchmarks' MCP backend, in a process of its own so its CPU is never counted as the gateway's.
 *
 * POST /mcp is the walkthrough's echo server (functions/demo/echo-server.ts) served statelessly, as the MCP SDK
 * documents it: a new server and transport per request, no session, JSON responses. A `tools/list` whose cursor is
 * `bench-tools=<n>` is answered with n generated tools (fixtures.ts), computed once per size.
 *
 * Run alone: node --import tsx test/bench/backend.ts   (prints {"url": ...} on its first line)
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { AddressInfo } from "node:net";
import { createEchoServer } from "../../functions/demo/echo-server.js";
import { toolsInCursor, toolsListResult } from "./fixtures.js";

export interface BenchBackend {
  /** The MCP endpoint, e.g. http://127.0.0.1:41234/mcp. */
  url: string;
  pid: number;
  close(): Promise<void>;
}

const lists = new Map<number, string>();

async function answer(request: Request): Promise<Response> {
  if (new URL(request.url).pathname !== "/mcp") return new Response("Not found", { status: 404 });
  if (request.method !== "POST") return new Response(null, { status: 405, headers: { allow: "POST" } });
  const parsed = (await request.json()) as { id?: unknown; method?: unknown; params?: { cursor?: unknown } };
  const tools = parsed.method === "tools/list" ? toolsInCursor(parsed.params?.cursor) : undefined;
  if (tools !== undefined) {
    let text = lists.get(tools);
    if (text === undefined) lists.set(tools, (text = toolsListResult("__ID__", tools)));
    return new Response(text.replace('"__ID__"', JSON.stringify(parsed.id)), { headers: { "content-type": "application/json" } });
  }
  const server = createEchoServer();
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request, { parsedBody: parsed });
  } finally {
    void server.close();
  }
}

function serveBackend(): Promise<string> {
  return new Promise((resolve) => {
    serve({ fetch: answer, port: 0, hostname: "127.0.0.1", overrideGlobalObjects: false }, (info: AddressInfo) => {
      resolve(`http://127.0.0.1:${info.port}/mcp`);
    });
  });
}

/** Starts the backend in a child process (node --import tsx) and resolves once it listens. */
export function startBenchBackend(): Promise<BenchBackend> {
  // Its stdin is a pipe from this process: when this process ends, however it ends, the backend sees the end and exits.
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], { stdio: ["pipe", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench backend exited with ${code} before listening`)));
    createInterface({ input: child.stdout }).once("line", (line) => {
      const { url } = JSON.parse(line) as { url: string };
      resolve({
        url,
        pid: child.pid ?? 0,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill();
          }),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const url = await serveBackend();
  console.log(JSON.stringify({ url }));
  process.on("SIGTERM", () => process.exit(0));
  process.stdin.on("end", () => process.exit(0)).resume();
}
