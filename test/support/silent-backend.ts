/**
 * A real MCP SDK server whose one tool, `ponder`, works in silence: it waits `silentMs` before its result, sending
 * nothing meanwhile; asked with a progress token, it sends one progress notification first, so its answer has an
 * event before the silence and one after. Like the SDK's servers without an event store, it sends no priming event:
 * the first bytes of its answer's stream are the first event.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { hostMcpServer } from "../../functions/demo/mcp-host.js";

export interface SilentBackend {
  url: string;
  close(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startSilentBackend(): Promise<SilentBackend> {
  const create = () => {
    const server = new McpServer({ name: "silent-backend", version: "1.0.0" });
    server.registerTool("ponder", { inputSchema: { message: z.string(), silentMs: z.number().int().min(0) } }, async (args, extra) => {
      const progressToken = extra._meta?.progressToken;
      if (progressToken !== undefined) {
        await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress: 1, total: 2 } });
      }
      await pause(args.silentMs);
      return { content: [{ type: "text", text: args.message }] };
    });
    return server;
  };
  const host = await hostMcpServer(create, { port: 0 });
  return { url: `${host.url}/mcp`, close: () => host.close() };
}
