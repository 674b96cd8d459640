/**
 * A real MCP SDK server as the backend, recording what it actually executed, so tests assert on the backend's side
 * of the gateway and not only on what the client saw.
 */
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { hostMcpServer } from "../../functions/demo/mcp-host.js";

export interface Executed {
  kind: "tool" | "prompt" | "resource";
  name: string;
  arguments?: unknown;
}

export interface TestBackend {
  /** The backend's MCP endpoint. */
  url: string;
  /** Every tool call, prompt get and resource read the backend executed, in order. */
  executed: Executed[];
  close(): Promise<void>;
}

export const TOOLS = ["echo", "add", "delete_everything", "search_docs"] as const;
export const PROMPTS = ["summarize", "secret_plan"] as const;
export const RESOURCES = ["docs://public/readme", "docs://internal/roadmap"] as const;

export async function startBackend(options: { jsonResponse?: boolean } = {}): Promise<TestBackend> {
  const executed: Executed[] = [];
  const create = () => {
    const server = new McpServer({ name: "test-backend", version: "1.0.0" });
    const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });
    server.registerTool("echo", { inputSchema: { message: z.string() } }, async (args) => {
      executed.push({ kind: "tool", name: "echo", arguments: args });
      return text(args.message);
    });
    server.registerTool("add", { inputSchema: { a: z.number(), b: z.number() } }, async (args) => {
      executed.push({ kind: "tool", name: "add", arguments: args });
      return text(String(args.a + args.b));
    });
    server.registerTool("delete_everything", { description: "Dangerous" }, async () => {
      executed.push({ kind: "tool", name: "delete_everything" });
      return text("deleted");
    });
    server.registerTool("search_docs", { inputSchema: { query: z.string() } }, async (args) => {
      executed.push({ kind: "tool", name: "search_docs", arguments: args });
      return text(`results for ${args.query}`);
    });
    for (const name of PROMPTS) {
      server.registerPrompt(name, { description: name }, async () => {
        executed.push({ kind: "prompt", name });
        return { messages: [{ role: "user", content: { type: "text", text: `prompt ${name}` } }] };
      });
    }
    for (const uri of RESOURCES) {
      server.registerResource(uri, uri, { mimeType: "text/plain" }, async () => {
        executed.push({ kind: "resource", name: uri });
        return { contents: [{ uri, text: `content of ${uri}` }] };
      });
    }
    server.registerResource("public-doc", new ResourceTemplate("docs://public/{name}", { list: undefined }), {}, async (uri) => {
      executed.push({ kind: "resource", name: uri.href });
      return { contents: [{ uri: uri.href, text: `template content of ${uri.href}` }] };
    });
    server.registerResource("internal-doc", new ResourceTemplate("docs://internal/{name}", { list: undefined }), {}, async (uri) => {
      executed.push({ kind: "resource", name: uri.href });
      return { contents: [{ uri: uri.href, text: `template content of ${uri.href}` }] };
    });
    return server;
  };
  const host = await hostMcpServer(create, { port: 0, jsonResponse: options.jsonResponse ?? false });
  return { url: `${host.url}/mcp`, executed, close: () => host.close() };
}
