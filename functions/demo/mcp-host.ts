/**
 * Hosts an MCP SDK server over Streamable HTTP on a local port, one server instance per session (as the SDK's own
 * examples do). Used by the demo's echo server, and by anyone who wants a quick local backend.
 */
import { randomUUID } from "node:crypto";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { serveFetch, type LocalServer } from "../adapters/node-server.js";

export interface McpHostOptions {
  port: number;
  hostname?: string;
  /** Path of the MCP endpoint. Default `/mcp`. */
  path?: string;
  /** Answer requests with JSON bodies instead of SSE streams. Default false (SSE, as the SDK does by default). */
  jsonResponse?: boolean;
}

function jsonRpcError(status: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32000, message } }, { status });
}

export async function hostMcpServer(createServer: () => McpServer, options: McpHostOptions): Promise<LocalServer> {
  const path = options.path ?? "/mcp";
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();

  async function fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== path) return new Response("Not found", { status: 404 });
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) {
      const transport = sessions.get(sessionId);
      return transport ? transport.handleRequest(request) : jsonRpcError(404, "Session not found");
    }
    if (request.method !== "POST") return jsonRpcError(400, "Bad Request: no session id");
    const body: unknown = await request.json().catch(() => undefined);
    if (!isInitializeRequest(body)) return jsonRpcError(400, "Bad Request: no session id, and not an initialize request");
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: options.jsonResponse ?? false,
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    await createServer().connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  }

  const server = await serveFetch(fetch, { port: options.port, hostname: options.hostname });
  return {
    url: server.url,
    async close() {
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      await server.close();
    },
  };
}
