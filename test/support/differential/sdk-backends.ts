/**
 * Three MCP servers as users build them, each reading the request with its own parser, each recording in its
 * handlers exactly what it executed:
 *
 * - `express5`: the v1 SDK's McpServer behind `createMcpExpressApp()` (express 5, body-parser 2: the body is decoded
 *   in the charset the Content-Type names), with the SDK's node StreamableHTTPServerTransport, as the SDK documents it;
 * - `express4`: an express 4 app with `express.json()` (body-parser 1, which reads Content-Type parameters its own
 *   way) in front of the same v1 transport;
 * - `v2`: the v2 SDK's McpServer (`@modelcontextprotocol/server`) served through `@modelcontextprotocol/node`,
 *   reading the body itself.
 *
 * All three are stateless (a server per request, as the SDKs' stateless examples are) and register the same tools
 * (with arguments), prompts (with arguments), static resources and a resource template; tool argument schemas are
 * loose, so a handler records the arguments exactly as the SDK parsed them. Each sits behind a wire tap
 * (wire-tap.ts), which records the bytes the gateway wrote.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { McpServer as V2McpServer, ResourceTemplate as V2ResourceTemplate, createMcpHandler } from "@modelcontextprotocol/server";
import { createMcpExpressApp } from "@modelcontextprotocol/sdk/server/express.js";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import express4 from "express4";
import * as z from "zod";
import { startWireTap, type WireTap } from "./wire-tap.js";

/** What a handler executed: the method, the tool or prompt name or the resource URI as the handler saw it, the arguments. */
export interface HandlerRecord {
  method: "tools/call" | "prompts/get" | "resources/read";
  name: string;
  arguments?: unknown;
}

export const SDK_TOOLS = ["echo", "add", "delete_everything"] as const;
export const SDK_PROMPTS = ["summarize", "secret_plan"] as const;
/** Static resources: one inside the public tree, two outside it. */
export const SDK_RESOURCES = ["file:///public/readme", "file:///secret", "file:///internal/roadmap"] as const;
export const SDK_TEMPLATE = "file:///public/{name}";

export type SdkBackendKind = "express5" | "express4" | "v2";

export interface SdkBackend {
  kind: SdkBackendKind;
  /** The tap's endpoint: what the gateway talks to. */
  url: string;
  executed: HandlerRecord[];
  tap: WireTap;
  close(): Promise<void>;
}

const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });
const promptText = (value: string) => ({ messages: [{ role: "user" as const, content: { type: "text" as const, text: value } }] });

/** Tool argument schemas: the arguments each tool needs, unknown ones kept (loose), so nothing is dropped unseen. */
const TOOL_SCHEMAS = {
  echo: z.looseObject({ message: z.string() }),
  add: z.looseObject({ a: z.number(), b: z.number() }),
  delete_everything: z.looseObject({ confirm: z.boolean().optional() }),
} as const;

const PROMPT_ARGS = {
  summarize: { text: z.string() },
  secret_plan: { target: z.string() },
} as const;

/** The v1 McpServer with everything registered (the same on both express generations). */
function v1Server(executed: HandlerRecord[]): McpServer {
  const server = new McpServer({ name: "differential-v1", version: "1.0.0" });
  for (const name of SDK_TOOLS) {
    server.registerTool(name, { description: name, inputSchema: TOOL_SCHEMAS[name] }, async (args: unknown) => {
      executed.push({ method: "tools/call", name, arguments: args });
      return text(`${name} ran`);
    });
  }
  for (const name of SDK_PROMPTS) {
    server.registerPrompt(name, { description: name, argsSchema: PROMPT_ARGS[name] }, async (args: unknown) => {
      executed.push({ method: "prompts/get", name, arguments: args });
      return promptText(`prompt ${name}`);
    });
  }
  for (const uri of SDK_RESOURCES) {
    server.registerResource(uri, uri, { mimeType: "text/plain" }, async (url) => {
      executed.push({ method: "resources/read", name: url.href });
      return { contents: [{ uri: url.href, text: `content of ${url.href}` }] };
    });
  }
  server.registerResource("public-file", new ResourceTemplate(SDK_TEMPLATE, { list: undefined }), { mimeType: "text/plain" }, async (url) => {
    executed.push({ method: "resources/read", name: url.href });
    return { contents: [{ uri: url.href, text: `template content of ${url.href}` }] };
  });
  return server;
}

function v2Server(executed: HandlerRecord[]): V2McpServer {
  const server = new V2McpServer({ name: "differential-v2", version: "2.0.0" });
  for (const name of SDK_TOOLS) {
    server.registerTool(name, { description: name, inputSchema: TOOL_SCHEMAS[name] }, async (args: unknown) => {
      executed.push({ method: "tools/call", name, arguments: args });
      return text(`${name} ran`);
    });
  }
  for (const name of SDK_PROMPTS) {
    server.registerPrompt(name, { description: name, argsSchema: z.object(PROMPT_ARGS[name]) }, async (args: unknown) => {
      executed.push({ method: "prompts/get", name, arguments: args });
      return promptText(`prompt ${name}`);
    });
  }
  for (const uri of SDK_RESOURCES) {
    server.registerResource(uri, uri, { mimeType: "text/plain" }, async (url: URL) => {
      executed.push({ method: "resources/read", name: url.href });
      return { contents: [{ uri: url.href, text: `content of ${url.href}` }] };
    });
  }
  server.registerResource("public-file", new V2ResourceTemplate(SDK_TEMPLATE, { list: undefined }), { mimeType: "text/plain" }, async (url: URL) => {
    executed.push({ method: "resources/read", name: url.href });
    return { contents: [{ uri: url.href, text: `template content of ${url.href}` }] };
  });
  return server;
}

/** One v1 server and transport per request, handed the body the express app parsed (the SDK's stateless example). */
async function v1Handle(executed: HandlerRecord[], req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const server = v1Server(executed);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`)));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function startSdkBackend(kind: SdkBackendKind): Promise<SdkBackend> {
  const executed: HandlerRecord[] = [];
  let server: Server;
  if (kind === "express5") {
    const app = createMcpExpressApp();
    app.post("/mcp", (req: IncomingMessage & { body?: unknown }, res: ServerResponse) => void v1Handle(executed, req, res, req.body));
    server = createServer(app);
  } else if (kind === "express4") {
    const app = express4();
    app.use(express4.json());
    app.post("/mcp", (req, res) => void v1Handle(executed, req, res, req.body));
    server = createServer(app);
  } else {
    const handler = createMcpHandler(() => v2Server(executed), { legacy: "stateless" });
    const serve = toNodeHandler(handler);
    server = createServer((req, res) => void serve(req, res));
  }
  const tap = await startWireTap(await listen(server));
  return {
    kind,
    url: tap.url,
    executed,
    tap,
    async close() {
      await tap.close();
      await closeServer(server);
    },
  };
}
