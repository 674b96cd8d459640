/**
 * A backend whose lists come in pages, as large servers' do: the v1 SDK's low-level `Server` with list handlers that
 * answer two items a page with an opaque cursor of its own (`page-<n>`), and a tool call handler recording what it
 * executed. For tests of paging through the gateway, where the SDK's McpServer (one page) would never page.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolRequestSchema, ListResourcesRequestSchema, ListToolsRequestSchema, ReadResourceRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { hostMcpServer } from "../../functions/demo/mcp-host.js";
import type { Executed, TestBackend } from "./backend.js";

export const PAGED_TOOLS = ["t1", "t2", "t3", "t4", "t5"] as const;
export const PAGED_RESOURCES = ["paged://r1", "paged://r2", "paged://r3", "paged://r4", "paged://r5"] as const;
const PAGE_SIZE = 2;

function page<T>(items: readonly T[], cursor: string | undefined): { items: T[]; nextCursor?: string } {
  const start = cursor === undefined ? 0 : Number(/^page-(\d+)$/.exec(cursor)?.[1] ?? Number.NaN);
  if (!Number.isInteger(start)) throw new Error(`unknown cursor ${cursor}`);
  const end = start + PAGE_SIZE;
  return { items: items.slice(start, end), ...(end < items.length ? { nextCursor: `page-${end}` } : {}) };
}

export async function startPagingBackend(): Promise<TestBackend> {
  const executed: Executed[] = [];
  const create = () => {
    const server = new Server({ name: "paging-backend", version: "1.0.0" }, { capabilities: { tools: {}, resources: {} } });
    server.setRequestHandler(ListToolsRequestSchema, (request) => {
      const { items, nextCursor } = page(PAGED_TOOLS, request.params?.cursor);
      return { tools: items.map((name) => ({ name, inputSchema: { type: "object" as const } })), ...(nextCursor ? { nextCursor } : {}) };
    });
    server.setRequestHandler(ListResourcesRequestSchema, (request) => {
      const { items, nextCursor } = page(PAGED_RESOURCES, request.params?.cursor);
      return { resources: items.map((uri) => ({ uri, name: uri })), ...(nextCursor ? { nextCursor } : {}) };
    });
    server.setRequestHandler(CallToolRequestSchema, (request) => {
      executed.push({ kind: "tool", name: request.params.name, arguments: request.params.arguments ?? {} });
      return { content: [{ type: "text", text: `ran ${request.params.name}` }] };
    });
    server.setRequestHandler(ReadResourceRequestSchema, (request) => {
      executed.push({ kind: "resource", name: request.params.uri });
      return { contents: [{ uri: request.params.uri, text: `content of ${request.params.uri}` }] };
    });
    // The host connects what it is given; a low-level Server connects the same way an McpServer does.
    return server as unknown as McpServer;
  };
  const host = await hostMcpServer(create, { port: 0 });
  return { url: `${host.url}/mcp`, executed, close: () => host.close() };
}
