/**
 * A raw node:http MCP backend whose timing tests control, for asserting that streamed responses are passed on as
 * they are produced: a tools/call is answered with an SSE stream carrying a progress notification at once and the
 * result RESULT_DELAY_MS later (its response headers `headersDelayMs` late, when the call's arguments say so); GET
 * opens the server-to-client stream, which sends a notification every TICK_INTERVAL_MS until the client goes away.
 * It records every request that reached it, the tools it executed, and the requests the client gave up on.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const RESULT_DELAY_MS = 300;
export const TICK_INTERVAL_MS = 100;

const TOOLS = [
  { name: "echo", inputSchema: { type: "object", properties: { message: { type: "string" } } } },
  { name: "delete_everything", description: "Dangerous", inputSchema: { type: "object" } },
];

export interface StreamingBackend {
  /** The backend's MCP endpoint. */
  url: string;
  /** Every request that reached the backend: "POST tools/call", "GET", "DELETE". */
  requests: string[];
  /** Every tool call it executed. */
  executed: { name: string; arguments: unknown }[];
  /** Requests whose connection the client closed before the backend had finished answering ("GET", "POST tools/call"). */
  closedByClient: string[];
  close(): Promise<void>;
}

interface JsonRpcRequest {
  id?: string | number;
  method: string;
  params?: { name?: string; arguments?: { message?: string; headersDelayMs?: number }; _meta?: { progressToken?: string | number } };
}

function sseEvent(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

function openSse(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders();
}

async function readJson(req: IncomingMessage): Promise<JsonRpcRequest> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString()) as JsonRpcRequest;
}

export async function startStreamingBackend(): Promise<StreamingBackend> {
  const requests: string[] = [];
  const executed: StreamingBackend["executed"] = [];
  const closedByClient: string[] = [];

  function recordClientLeaving(res: ServerResponse, request: string): void {
    res.on("close", () => {
      if (!res.writableEnded) closedByClient.push(request);
    });
  }

  function serverToClientStream(res: ServerResponse): void {
    openSse(res);
    let tick = 0;
    const send = () => res.write(sseEvent({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: `tick ${++tick}` } }));
    send();
    const timer = setInterval(send, TICK_INTERVAL_MS);
    res.on("close", () => clearInterval(timer));
  }

  function callTool(message: JsonRpcRequest, res: ServerResponse): void {
    const name = message.params?.name ?? "";
    const { headersDelayMs = 0, ...args } = message.params?.arguments ?? {};
    executed.push({ name, arguments: args });
    setTimeout(() => {
      if (res.destroyed) return;
      openSse(res);
      const progressToken = message.params?._meta?.progressToken;
      if (progressToken !== undefined) {
        res.write(sseEvent({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken, progress: 1, total: 2 } }));
      }
      setTimeout(() => {
        const text = args.message ?? name;
        res.end(sseEvent({ jsonrpc: "2.0", id: message.id, result: { content: [{ type: "text", text }] } }));
      }, RESULT_DELAY_MS);
    }, headersDelayMs);
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "GET") {
      requests.push("GET");
      recordClientLeaving(res, "GET");
      return serverToClientStream(res);
    }
    if (req.method !== "POST") {
      requests.push(req.method ?? "?");
      res.writeHead(200).end();
      return;
    }
    const message = await readJson(req);
    requests.push(`POST ${message.method}`);
    recordClientLeaving(res, `POST ${message.method}`);
    if (message.id === undefined) {
      res.writeHead(202).end();
    } else if (message.method === "tools/list") {
      openSse(res);
      res.end(sseEvent({ jsonrpc: "2.0", id: message.id, result: { tools: TOOLS } }));
    } else if (message.method === "tools/call") {
      callTool(message, res);
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } }));
    }
  }

  const server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    executed,
    closedByClient,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
