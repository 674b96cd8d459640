/**
 * One face over both MCP client generations, so a test can run the same steps with either:
 * - v1: `@modelcontextprotocol/sdk` (1.x) `Client` + `StreamableHTTPClientTransport`. It always offers its latest
 *   version in `initialize` and has no option to offer another, so an older version is negotiated by rewriting the
 *   `protocolVersion` its `initialize` request offers (the server answers with that version, which the client
 *   accepts because it is one of its supported versions).
 * - v2: `@modelcontextprotocol/client` (2.x). 2025 versions through its `supportedProtocolVersions` option (the
 *   `initialize` handshake offers the first 2025-era entry); 2026-07-28 through `versionNegotiation: { mode: { pin } }`
 *   (a `server/discover` probe, then a `_meta` envelope on every request, no session).
 *
 * Every HTTP exchange the client makes is recorded (request headers and body, response status and the JSON-RPC
 * messages of its JSON or SSE body), so tests can assert on what crossed the wire and failures can be diagnosed.
 */
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1Transport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { Client as V2Client, StreamableHTTPClientTransport as V2Transport } from "@modelcontextprotocol/client";
import { sseEventsIn } from "./raw-mcp.js";

export type ClientGeneration = "v1" | "v2";
export const MODERN_VERSION = "2026-07-28";

export interface Exchange {
  method: string;
  requestHeaders: Record<string, string>;
  requestBody?: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  /** The JSON-RPC messages of the response body (a JSON body, or every SSE event's data). */
  messages: unknown[];
}

/** A step's outcome: its result, or the JSON-RPC error it failed with. */
export type Settled = { result: unknown } | { error: { code: unknown; message: string } };

export interface MatrixClient {
  negotiatedVersion(): string | undefined;
  list(kind: ListKind): Promise<Record<string, unknown>[]>;
  callTool(name: string, args: Record<string, unknown>): Promise<Settled>;
  /** Every HTTP exchange so far, in order. */
  exchanges: Exchange[];
  close(): Promise<void>;
}

export type ListKind = "tools" | "prompts" | "resources" | "resourceTemplates";

/** Reads a response copy to the end without disturbing the client's own reading of it. */
function recordingFetch(exchanges: Exchange[]) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(url, init);
    const requestHeaders = Object.fromEntries(new Headers(init?.headers).entries());
    const exchange: Exchange = {
      method: init?.method ?? "GET",
      requestHeaders,
      requestBody: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      status: response.status,
      responseHeaders: Object.fromEntries(response.headers.entries()),
      messages: [],
    };
    exchanges.push(exchange);
    if (response.body && exchange.method === "POST") {
      void response
        .clone()
        .text()
        .then((text) => exchange.messages.push(...parseBody(text)), () => undefined);
    }
    return response;
  };
}

function parseBody(text: string): unknown[] {
  const attempt = (data: string) => {
    try {
      return [JSON.parse(data) as unknown];
    } catch {
      return [];
    }
  };
  if (text.trimStart().startsWith("{") || text.trimStart().startsWith("[")) return attempt(text);
  return sseEventsIn(text).flatMap((event) => (event.data === "" ? [] : attempt(event.data)));
}

async function settle(step: () => Promise<unknown>): Promise<Settled> {
  try {
    return { result: await step() };
  } catch (err) {
    const error = err as { code?: unknown; message?: unknown };
    return { error: { code: error.code, message: String(error.message) } };
  }
}

function authHeaders(token?: string): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

const METHODS = { tools: "listTools", prompts: "listPrompts", resources: "listResources", resourceTemplates: "listResourceTemplates" } as const;

async function connectV1(url: string, version: string, token: string | undefined): Promise<MatrixClient> {
  const exchanges: Exchange[] = [];
  const client = new V1Client({ name: "matrix-v1", version: "1.0.0" });
  const transport = new V1Transport(new URL(url), { requestInit: { headers: authHeaders(token) }, fetch: recordingFetch(exchanges) });
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, options) => {
    const offered =
      "method" in message && message.method === "initialize" ? { ...message, params: { ...message.params, protocolVersion: version } } : message;
    return send(offered, options);
  };
  await client.connect(transport);
  return {
    negotiatedVersion: () => transport.protocolVersion,
    async list(kind) {
      const items: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      do {
        const page = (await client[METHODS[kind]](cursor === undefined ? {} : { cursor })) as unknown as Record<string, unknown>;
        items.push(...(page[kind] as Record<string, unknown>[]));
        cursor = page.nextCursor as string | undefined;
      } while (cursor !== undefined);
      return items;
    },
    callTool: (name, args) => settle(() => client.callTool({ name, arguments: args })),
    exchanges,
    close: () => client.close(),
  };
}

async function connectV2(url: string, version: string, token: string | undefined): Promise<MatrixClient> {
  const exchanges: Exchange[] = [];
  const client =
    version === MODERN_VERSION
      ? new V2Client({ name: "matrix-v2", version: "2.0.0" }, { versionNegotiation: { mode: { pin: MODERN_VERSION } } })
      : new V2Client({ name: "matrix-v2", version: "2.0.0" }, { supportedProtocolVersions: [version] });
  const transport = new V2Transport(new URL(url), { requestInit: { headers: authHeaders(token) }, fetch: recordingFetch(exchanges) });
  await client.connect(transport);
  return {
    negotiatedVersion: () => client.getNegotiatedProtocolVersion(),
    async list(kind) {
      // Every page, aggregated by the client; `refresh` so a cached list (ttlMs) never stands in for the wire.
      const result = (await client[METHODS[kind]](undefined, { cacheMode: "refresh" })) as unknown as Record<string, unknown>;
      return result[kind] as Record<string, unknown>[];
    },
    callTool: (name, args) => settle(() => client.callTool({ name, arguments: args })),
    exchanges,
    close: () => client.close(),
  };
}

export function connectMatrixClient(generation: ClientGeneration, url: string, version: string, token?: string): Promise<MatrixClient> {
  return generation === "v1" ? connectV1(url, version, token) : connectV2(url, version, token);
}

/** JSON-RPC results in the recorded exchanges that are list results (they hold one of the list arrays). */
export function listResults(exchanges: Exchange[]): Record<string, unknown>[] {
  return exchanges
    .flatMap((exchange) => exchange.messages)
    .map((message) => (typeof message === "object" && message !== null ? (message as { result?: unknown }).result : undefined))
    .filter((result): result is Record<string, unknown> => typeof result === "object" && result !== null)
    .filter((result) => (["tools", "prompts", "resources", "resourceTemplates"] as const).some((key) => Array.isArray(result[key])));
}
