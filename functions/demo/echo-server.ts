/** The walkthrough's backend: a basic MCP server with one `echo` tool. */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { LocalServer } from "../adapters/node-server.js";
import { hostMcpServer } from "./mcp-host.js";

export function createEchoServer(): McpServer {
  const server = new McpServer({ name: "echo-server", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Echoes the message back", inputSchema: { message: z.string().describe("What to echo") } },
    async ({ message }) => ({ content: [{ type: "text", text: message }] }),
  );
  return server;
}

export function startEchoServer(port: number, hostname?: string): Promise<LocalServer> {
  return hostMcpServer(createEchoServer, { port, hostname });
}
