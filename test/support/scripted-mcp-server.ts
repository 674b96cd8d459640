/**
 * A small scripted MCP server (JSON responses, a session id of its own): it lists the tools, prompts, resources and
 * templates it is given, in pages when asked to, runs any listed tool or prompt and reads any listed resource, and
 * records every JSON-RPC message it received. For tests of the aggregated endpoint that need exact control of what
 * each server lists (colliding names and URIs, pages) and an exact record of what reached which server.
 */
import { randomUUID } from "node:crypto";
import { serveFetch } from "../../functions/adapters/node-server.js";

export interface ScriptedItems {
  tools?: string[];
  prompts?: string[];
  resources?: string[];
  templates?: string[];
  /** The description each named tool or prompt is listed with (none when not given): a test changes it with `set`. */
  descriptions?: Record<string, string>;
}

export interface ScriptedServerOptions extends ScriptedItems {
  /** Items a page; all in one page when not given. */
  pageSize?: number;
  /** Milliseconds to wait before answering requests of these JSON-RPC methods. */
  delays?: Record<string, number>;
}

export interface ScriptedServer {
  url: string;
  /** Every JSON-RPC message received, in order, with the HTTP headers it came with (lower-case names). */
  received: Array<{ message: Record<string, unknown>; headers: Record<string, string> }>;
  /** The tool calls, prompt gets and resource reads it ran: `tool:<name>`, `prompt:<name>`, `resource:<uri>`. */
  ran: string[];
  /** Replaces what the server lists (the list changed). */
  set(items: ScriptedItems): void;
  close(): Promise<void>;
}

type Listed = "tools" | "prompts" | "resources" | "templates";

/** `{ description }` when the server was given one for `name`. */
const described = (name: string, items: ScriptedItems) => (items.descriptions?.[name] === undefined ? {} : { description: items.descriptions[name] });

const LISTS: Record<string, { key: string; of: Listed; shape: (name: string, items: ScriptedItems) => Record<string, unknown> }> = {
  "tools/list": { key: "tools", of: "tools", shape: (name, items) => ({ name, ...described(name, items), inputSchema: { type: "object" } }) },
  "prompts/list": { key: "prompts", of: "prompts", shape: (name, items) => ({ name, ...described(name, items) }) },
  "resources/list": { key: "resources", of: "resources", shape: (uri) => ({ uri, name: uri }) },
  "resources/templates/list": { key: "resourceTemplates", of: "templates", shape: (uriTemplate) => ({ uriTemplate, name: uriTemplate }) },
};

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startScriptedServer(name: string, options: ScriptedServerOptions): Promise<ScriptedServer> {
  let items: ScriptedItems = { tools: options.tools, prompts: options.prompts, resources: options.resources, templates: options.templates, descriptions: options.descriptions };
  const received: ScriptedServer["received"] = [];
  const ran: string[] = [];
  const sessions = new Set<string>();

  function answer(message: Record<string, unknown>): Record<string, unknown> | undefined {
    const id = message.id;
    const params = (typeof message.params === "object" && message.params !== null ? message.params : {}) as Record<string, unknown>;
    const ok = (result: Record<string, unknown>) => ({ jsonrpc: "2.0", id, result });
    const fail = (code: number, text: string) => ({ jsonrpc: "2.0", id, error: { code, message: text } });
    if (message.method === undefined || id === undefined) return undefined;
    if (message.method === "initialize") {
      return ok({
        protocolVersion: params.protocolVersion ?? "2025-06-18",
        capabilities: { tools: { listChanged: true }, prompts: {}, resources: { subscribe: true } },
        serverInfo: { name, version: "1" },
        instructions: `the ${name} server`,
      });
    }
    const list = LISTS[message.method as string];
    if (list) {
      const all = items[list.of];
      if (all === undefined) return fail(-32601, `Method not found: ${String(message.method)}`);
      const size = options.pageSize ?? all.length;
      const start = params.cursor === undefined ? 0 : Number(/^at-(\d+)$/.exec(String(params.cursor))?.[1] ?? Number.NaN);
      if (!Number.isInteger(start)) return fail(-32602, `Invalid params: unknown cursor ${String(params.cursor)}`);
      const end = start + Math.max(size, 1);
      return ok({ [list.key]: all.slice(start, end).map((id) => list.shape(id, items)), ...(end < all.length ? { nextCursor: `at-${end}` } : {}) });
    }
    if (message.method === "tools/call" || message.method === "prompts/get") {
      const [kind, of] = message.method === "tools/call" ? ["tool", "tools"] as const : ["prompt", "prompts"] as const;
      if (!(items[of] ?? []).includes(String(params.name))) return fail(-32602, `Unknown ${kind}: ${String(params.name)}`);
      ran.push(`${kind}:${String(params.name)}`);
      return kind === "tool"
        ? ok({ content: [{ type: "text", text: `${name} ran ${String(params.name)}` }] })
        : ok({ messages: [{ role: "user", content: { type: "text", text: `${name} prompt ${String(params.name)}` } }] });
    }
    if (message.method === "resources/read") {
      const uri = String(params.uri);
      ran.push(`resource:${uri}`);
      return ok({ contents: [{ uri, text: `${name} content of ${uri}` }] });
    }
    if (message.method === "ping" || message.method === "logging/setLevel" || message.method === "resources/subscribe") return ok({});
    return fail(-32601, `Method not found: ${String(message.method)}`);
  }

  const server = await serveFetch(
    async (request) => {
      if (request.method === "GET") return new Response(null, { status: 405, headers: { allow: "POST, DELETE" } });
      if (request.method === "DELETE") return new Response(null, { status: 200 });
      const headers = Object.fromEntries([...request.headers.entries()].map(([key, value]) => [key.toLowerCase(), value]));
      const message = JSON.parse(await request.text()) as Record<string, unknown>;
      received.push({ message, headers });
      const delay = options.delays?.[String(message.method)];
      if (delay) await pause(delay);
      const reply = answer(message);
      if (!reply) return new Response(null, { status: 202 });
      const extra: Record<string, string> = {};
      if (message.method === "initialize") {
        const session = randomUUID();
        sessions.add(session);
        extra["mcp-session-id"] = session;
      }
      return Response.json(reply, { headers: extra });
    },
    { port: 0 },
  );
  return {
    url: `${server.url}/mcp`,
    received,
    ran,
    set(next) {
      items = { ...next };
    },
    close: () => server.close(),
  };
}

/** The JSON-RPC methods a scripted server received, in order (responses as "response"). */
export function methodsReceived(server: ScriptedServer): string[] {
  return server.received.map(({ message }) => (typeof message.method === "string" ? message.method : "response"));
}
