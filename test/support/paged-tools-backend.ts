/**
 * An MCP SDK server as the backend whose tools/list comes in pages (PAGE_SIZE tools a page, an opaque cursor to the
 * next), as large servers answer: a client that reads only the first page sees fewer tools than there are. Hosted as
 * the demo hosts its echo server (one server per session, event streams, GET streams).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { hostMcpServer } from "../../functions/demo/mcp-host.js";

/** The backend's tools, in list order: seven reports anyone with the reader role may use, and one for admins. */
export const PAGED_TOOLS = ["report_01", "report_02", "report_03", "report_04", "report_05", "report_06", "report_07", "admin_reset"] as const;
export const PAGE_SIZE = 3;
/** A policy under which the reader role sees every report, and only admins see admin_reset. */
export const PAGED_TOOLS_POLICY = 'tools:\n  "report_*": [reader]\n  admin_reset: [admin]\n';

export interface PagedToolsBackend {
  url: string;
  /** The cursor of every tools/list request the backend answered (undefined for the first page), in order. */
  listRequests: (string | undefined)[];
  close(): Promise<void>;
}

export async function startPagedToolsBackend(): Promise<PagedToolsBackend> {
  const listRequests: (string | undefined)[] = [];
  const create = () => {
    const mcp = new McpServer({ name: "paged-tools", version: "2.3.0" });
    mcp.server.registerCapabilities({ tools: {} });
    mcp.server.setRequestHandler(ListToolsRequestSchema, (request) => {
      const cursor = request.params?.cursor;
      listRequests.push(cursor);
      const start = cursor === undefined ? 0 : Number(Buffer.from(cursor, "base64url").toString());
      const page = PAGED_TOOLS.slice(start, start + PAGE_SIZE);
      const next = start + PAGE_SIZE < PAGED_TOOLS.length ? Buffer.from(String(start + PAGE_SIZE)).toString("base64url") : undefined;
      return { tools: page.map((name) => ({ name, inputSchema: { type: "object" as const } })), ...(next ? { nextCursor: next } : {}) };
    });
    return mcp;
  };
  const host = await hostMcpServer(create, { port: 0 });
  return { url: `${host.url}/mcp`, listRequests, close: () => host.close() };
}
