/**
 * A backend built on the v2 MCP server SDK (`@modelcontextprotocol/server` with the node HTTP adapter): it serves the
 * 2026-07-28 revision (no initialize, no sessions, a `_meta` envelope on every request) and, through the SDK's
 * stateless legacy fallback, the 2025 revisions on the same endpoint. Like backend.ts, it records what it actually
 * executed, so tests assert on the backend's side of the gateway and not only on what the client saw.
 *
 * Its list results ask for `cacheScope: "public"` (one minute): a gateway that filters lists per caller must not
 * pass such a hint on unchanged.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { toNodeHandler } from "@modelcontextprotocol/node";
import {
  McpServer,
  ResourceTemplate,
  createMcpHandler,
  fromJsonSchema,
  type CacheHint,
  type ServerCapabilities,
  type ServerNotifier,
} from "@modelcontextprotocol/server";
import * as z from "zod";
import type { Executed } from "./backend.js";

export interface V2Backend {
  /** The backend's MCP endpoint. */
  url: string;
  /** Every tool call, prompt get and resource read the backend executed, in order. */
  executed: Executed[];
  /** Every HTTP request the backend received: method, the MCP headers, and the JSON-RPC method of the body. */
  requests: V2Request[];
  /** Publishes change events to the backend's open `subscriptions/listen` streams (2026-07-28). */
  notify: ServerNotifier;
  close(): Promise<void>;
}

/** Additions for a test's needs; without them the backend is exactly the one described above. */
export interface V2BackendOptions {
  /** Capabilities to advertise besides those the registered items imply (e.g. `resources.subscribe`). */
  capabilities?: ServerCapabilities;
  /** Registers further tools, prompts or resources on every server instance (they record into `executed`). */
  extend?: (server: McpServer, executed: Executed[]) => void;
}

export interface V2Request {
  httpMethod: string;
  rpcMethod?: string;
  /** Headers whose names start with `mcp-` (lower case). */
  mcpHeaders: Record<string, string>;
  /** The `params` of the body's JSON-RPC message, when it had any. */
  params?: Record<string, unknown>;
}

export const V2_TOOLS = ["echo", "add", "delete_everything", "weather"] as const;
export const V2_PROMPTS = ["summarize", "secret_plan"] as const;
export const V2_RESOURCES = ["docs://public/readme", "docs://internal/roadmap"] as const;
export const V2_TEMPLATES = ["docs://public/{name}", "docs://internal/{name}"] as const;

/** The tool whose `region` argument is mirrored into an `Mcp-Param-Region` header by 2026-07-28 clients. */
export const HEADER_TOOL = "weather";
export const HEADER_TOOL_SCHEMA = {
  type: "object",
  properties: {
    region: { type: "string", "x-mcp-header": "Region" },
    days: { type: "integer" },
  },
  required: ["region"],
} as const;

/** The cache hint every list result asks for: shareable by anyone, for a minute. */
export const PUBLIC_LIST_HINT: CacheHint = { cacheScope: "public", ttlMs: 60_000 };

function createBackendServer(executed: Executed[], options: V2BackendOptions): McpServer {
  const server = new McpServer(
    { name: "v2-test-backend", version: "2.0.0" },
    {
      ...(options.capabilities ? { capabilities: options.capabilities } : {}),
      cacheHints: {
        "tools/list": PUBLIC_LIST_HINT,
        "prompts/list": PUBLIC_LIST_HINT,
        "resources/list": PUBLIC_LIST_HINT,
        "resources/templates/list": PUBLIC_LIST_HINT,
      },
    },
  );
  const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });
  server.registerTool("echo", { description: "Echoes a message", inputSchema: z.object({ message: z.string() }) }, async (args) => {
    executed.push({ kind: "tool", name: "echo", arguments: args });
    return text(args.message);
  });
  server.registerTool("add", { description: "Adds two numbers", inputSchema: z.object({ a: z.number(), b: z.number() }) }, async (args) => {
    executed.push({ kind: "tool", name: "add", arguments: args });
    return text(String(args.a + args.b));
  });
  server.registerTool("delete_everything", { description: "Dangerous" }, async () => {
    executed.push({ kind: "tool", name: "delete_everything" });
    return text("deleted");
  });
  server.registerTool(
    HEADER_TOOL,
    { description: "Forecast for a region", inputSchema: fromJsonSchema<{ region: string; days?: number }>(HEADER_TOOL_SCHEMA) },
    async (args) => {
      executed.push({ kind: "tool", name: HEADER_TOOL, arguments: args });
      return text(`sunny in ${args.region} for ${args.days ?? 1} day(s)`);
    },
  );
  for (const name of V2_PROMPTS) {
    server.registerPrompt(name, { description: name }, async () => {
      executed.push({ kind: "prompt", name });
      return { messages: [{ role: "user" as const, content: { type: "text" as const, text: `prompt ${name}` } }] };
    });
  }
  for (const uri of V2_RESOURCES) {
    server.registerResource(uri, uri, { mimeType: "text/plain" }, async () => {
      executed.push({ kind: "resource", name: uri });
      return { contents: [{ uri, text: `content of ${uri}` }] };
    });
  }
  for (const template of V2_TEMPLATES) {
    server.registerResource(template, new ResourceTemplate(template, { list: undefined }), {}, async (uri) => {
      executed.push({ kind: "resource", name: uri.href });
      return { contents: [{ uri: uri.href, text: `template content of ${uri.href}` }] };
    });
  }
  options.extend?.(server, executed);
  return server;
}

/** Starts the backend on a loopback port; `/mcp` serves both eras (`legacy: "stateless"`). */
export async function startV2Backend(options: V2BackendOptions = {}): Promise<V2Backend> {
  const executed: Executed[] = [];
  const requests: V2Request[] = [];
  const handler = createMcpHandler(() => createBackendServer(executed, options), { legacy: "stateless" });
  const serve = toNodeHandler(handler);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const mcpHeaders = Object.fromEntries(
        Object.entries(req.headers)
          .filter(([name]) => name.startsWith("mcp-"))
          .map(([name, value]) => [name, Array.isArray(value) ? value.join(", ") : String(value)]),
      );
      let rpcMethod: string | undefined;
      let params: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = text ? JSON.parse(text) : undefined;
        if (typeof parsed === "object" && parsed !== null && "method" in parsed) rpcMethod = String(parsed.method);
        if (typeof parsed === "object" && parsed !== null && "params" in parsed) params = parsed.params as Record<string, unknown>;
      } catch {
        // Not JSON: the SDK answers it; nothing to record.
      }
      requests.push({ httpMethod: req.method ?? "", rpcMethod, mcpHeaders, ...(params ? { params } : {}) });
      if (new URL(req.url ?? "/", "http://localhost").pathname !== "/mcp") {
        res.writeHead(404).end();
        return;
      }
      void serve(req, res, text ? safeParse(text) : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    executed,
    requests,
    notify: handler.notify,
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
