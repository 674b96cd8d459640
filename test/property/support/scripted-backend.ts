/**
 * A raw node:http MCP backend for the property tests. It records every request exactly as it arrived (HTTP method,
 * headers, body bytes) and answers as the current run's script says, writing the answer in the chunks the script
 * chose, so SSE events and multi-byte characters can be split anywhere on the wire.
 *
 * Without a script it is a lenient MCP server, the kind the gateway must protect even from itself: it reads bodies
 * with JSON.parse (the last of duplicate keys wins), takes a method name in any case, Unicode compatibility form or
 * spacing (`Tools/Call`, `ｔｏｏｌｓ/ｃａｌｌ`), executes every tools/call, prompts/get, resources/read,
 * resources/subscribe, resources/unsubscribe and completion/complete it is given, notifications included, records
 * each execution, and answers the requests in JSON (an array for a batch; 202 when nothing expects an answer).
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { ItemKind } from "./arbitraries.js";

export interface ReceivedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One use of an item the backend carried out. */
export interface Execution {
  /** The method as it arrived. */
  method: string;
  kind: ItemKind;
  name: string;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  /** The body, in the pieces to write it in. */
  chunks: Uint8Array[];
}

/** The current run's answer to one request; undefined: answer as the lenient server does. */
export type Script = (request: ReceivedRequest, parsed: unknown) => Reply | undefined;

export interface ScriptedBackend {
  url: string;
  received: ReceivedRequest[];
  executed: Execution[];
  script: Script | undefined;
  /** Forgets what was received and executed, and the script. */
  reset(): void;
  close(): Promise<void>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How a lenient server reads a method name. */
export function lenientMethod(method: string): string {
  return method.normalize("NFKC").toLowerCase().replace(/\s+/g, "");
}

function stringAt(value: unknown, key: string): string | undefined {
  return isObject(value) && typeof value[key] === "string" ? value[key] : undefined;
}

/** The item a message uses, read as an MCP server reads it; undefined when it uses none. */
export function itemUsed(message: unknown): { kind: ItemKind; name: string } | undefined {
  if (!isObject(message) || typeof message.method !== "string") return undefined;
  const params = message.params;
  const named = (kind: ItemKind, name: string | undefined) => (name === undefined ? undefined : { kind, name });
  switch (lenientMethod(message.method)) {
    case "tools/call":
      return named("tool", stringAt(params, "name"));
    case "prompts/get":
      return named("prompt", stringAt(params, "name"));
    case "resources/read":
    case "resources/subscribe":
    case "resources/unsubscribe":
      return named("resource", stringAt(params, "uri"));
    case "completion/complete": {
      const ref = isObject(params) ? params.ref : undefined;
      if (stringAt(ref, "type") === "ref/prompt") return named("prompt", stringAt(ref, "name"));
      if (stringAt(ref, "type") === "ref/resource") return named("resource", stringAt(ref, "uri"));
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The JSON-RPC messages of a body, as the backend reads them. */
export function messagesOf(parsed: unknown): unknown[] {
  return Array.isArray(parsed) ? parsed : [parsed];
}

export function jsonReply(value: unknown, contentType = "application/json"): Reply {
  return { status: 200, headers: { "content-type": contentType }, chunks: [Buffer.from(JSON.stringify(value))] };
}

export async function startScriptedBackend(): Promise<ScriptedBackend> {
  const received: ReceivedRequest[] = [];
  const executed: Execution[] = [];
  let script: Script | undefined;

  function lenientReply(parsed: unknown): Reply {
    const answers: unknown[] = [];
    for (const message of messagesOf(parsed)) {
      const item = itemUsed(message);
      if (item && isObject(message)) executed.push({ method: message.method as string, ...item });
      if (isObject(message) && typeof message.method === "string" && "id" in message) {
        answers.push({ jsonrpc: "2.0", id: message.id, result: item ? { content: [{ type: "text", text: item.name }] } : {} });
      }
    }
    if (answers.length === 0) return { status: 202, headers: {}, chunks: [] };
    return jsonReply(Array.isArray(parsed) ? answers : answers[0]);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      void (async () => {
        const request: ReceivedRequest = { method: req.method ?? "", headers: req.headers, body: Buffer.concat(chunks) };
        received.push(request);
        let parsed: unknown;
        try {
          parsed = request.body.length > 0 ? JSON.parse(request.body.toString("utf8")) : undefined;
        } catch {
          res.writeHead(400, { "content-type": "application/json" }).end('{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}');
          return;
        }
        const reply = script?.(request, parsed) ?? lenientReply(parsed);
        res.writeHead(reply.status, reply.headers);
        for (const chunk of reply.chunks) {
          res.write(chunk);
          // Let each piece leave on its own, as far as the socket allows.
          await new Promise((resolve) => setImmediate(resolve));
        }
        res.end();
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    received,
    executed,
    get script() {
      return script;
    },
    set script(value) {
      script = value;
    },
    reset() {
      received.length = 0;
      executed.length = 0;
      script = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
