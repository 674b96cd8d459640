/**
 * A real MCP SDK server whose `echo` can take its time: asked with a progress token and `steps`, it sends one progress
 * notification per step, `stepMs` apart, before its result, so a test can see whether a front door passes events on
 * as they are produced. Its other tool, `delete_everything`, is there to be filtered out of lists. It records every
 * call it executed.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { hostMcpServer } from "../../functions/demo/mcp-host.js";

export const SERVER_NAME = "progress-backend";
export const TOOL_NAMES = ["echo", "delete_everything"] as const;

export interface ProgressBackend {
  url: string;
  executed: { name: string; arguments: unknown }[];
  close(): Promise<void>;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startProgressBackend(): Promise<ProgressBackend> {
  const executed: ProgressBackend["executed"] = [];
  const create = () => {
    const server = new McpServer({ name: SERVER_NAME, version: "1.0.0" });
    const echoArguments = { message: z.string(), steps: z.number().int().min(0).optional(), stepMs: z.number().int().min(0).optional() };
    server.registerTool("echo", { inputSchema: echoArguments }, async (args, extra) => {
      executed.push({ name: "echo", arguments: args });
      const progressToken = extra._meta?.progressToken;
      const steps = args.steps ?? 0;
      for (let step = 1; step <= steps && progressToken !== undefined; step++) {
        await extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress: step, total: steps } });
        await pause(args.stepMs ?? 0);
      }
      return { content: [{ type: "text", text: args.message }] };
    });
    server.registerTool("delete_everything", { description: "Dangerous" }, async () => {
      executed.push({ name: "delete_everything", arguments: {} });
      return { content: [{ type: "text", text: "deleted" }] };
    });
    return server;
  };
  const host = await hostMcpServer(create, { port: 0 });
  return { url: `${host.url}/mcp`, executed, close: () => host.close() };
}
