/**
 * The multi-server walkthrough's second backend: a small notes server (a tool to list notes, one to add a note, each
 * note a resource `notes://<id>`), so that two servers sit behind one gateway in `npm start`.
 */
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { LocalServer } from "../adapters/node-server.js";
import { hostMcpServer } from "./mcp-host.js";

/** The notes, shared by every session of the server while it runs. */
function createNotesServer(notes: Map<string, string>): McpServer {
  const server = new McpServer({ name: "notes-server", version: "1.0.0" });
  const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });
  server.registerTool("list_notes", { description: "Lists the notes" }, async () =>
    text(notes.size === 0 ? "no notes" : [...notes].map(([id, note]) => `notes://${id}: ${note}`).join("\n")),
  );
  server.registerTool("add_note", { description: "Adds a note", inputSchema: { text: z.string().describe("The note") } }, async ({ text: note }) => {
    const id = String(notes.size + 1);
    notes.set(id, note);
    return text(`added notes://${id}`);
  });
  server.registerResource(
    "note",
    new ResourceTemplate("notes://{id}", { list: async () => ({ resources: [...notes.keys()].map((id) => ({ uri: `notes://${id}`, name: `note ${id}` })) }) }),
    { mimeType: "text/plain" },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, text: notes.get(String(id)) ?? "" }] }),
  );
  return server;
}

export function startNotesServer(port: number, hostname?: string): Promise<LocalServer> {
  const notes = new Map([["1", "The gateway serves several MCP servers behind one sign-in."]]);
  return hostMcpServer(() => createNotesServer(notes), { port, hostname });
}
