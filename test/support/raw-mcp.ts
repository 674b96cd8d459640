/**
 * Raw Streamable HTTP, for what the SDK client hides: SSE events with their fields and exact bytes, read as they
 * arrive (or from a whole body), and a session opened by hand with a chosen protocol version.
 */
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { MCP_HEADERS } from "./gateway.js";

export interface SseEvent {
  /** The event exactly as it came, its blank line included. */
  raw: string;
  id?: string;
  retry?: string;
  event?: string;
  /** The data lines joined, "" for none. */
  data: string;
}

/** The JSON-RPC message of an event, if it carries one. */
export function messageOf(event: SseEvent): Record<string, unknown> | undefined {
  return event.data.trim() === "" ? undefined : (JSON.parse(event.data) as Record<string, unknown>);
}

/**
 * An event's fields. Read by hand, as the gateway's own filter reads them: an SSE library dispatches no event for a
 * priming event (an id with empty data), and these tests look at exactly those.
 */
function parseEvent(raw: string): SseEvent {
  const event: SseEvent = { raw, data: "" };
  const data: string[] = [];
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "id" || field === "retry" || field === "event") event[field] = value;
  }
  event.data = data.join("\n");
  return event;
}

/** The events of an SSE body read whole (a buffered response's). */
export function sseEventsIn(body: string): SseEvent[] {
  return body.split(/(?<=\r\n\r\n|\n\n|\r\r)/).filter((raw) => raw.trim() !== "").map(parseEvent);
}

/** The JSON-RPC messages of an SSE body read whole, in order (events without data carry none). */
export function sseMessages(body: string): Record<string, unknown>[] {
  return sseEventsIn(body).flatMap<Record<string, unknown>>((event) => messageOf(event) ?? []);
}

/** The JSON-RPC messages of a response body: a JSON body (one message or a batch), or each SSE event's. */
export function messagesIn(contentType: string | null | undefined, body: string): Record<string, unknown>[] {
  if ((contentType ?? "").startsWith("text/event-stream")) return sseMessages(body);
  const parsed = JSON.parse(body) as Record<string, unknown> | Record<string, unknown>[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** The events of an SSE body as they arrive; leaving the loop early cancels the body. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let match = /\r\n\r\n|\n\n|\r\r/.exec(buffer); match; match = /\r\n\r\n|\n\n|\r\r/.exec(buffer)) {
        const end = match.index + match[0].length;
        yield parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

export interface RawSession {
  /** Headers for every later request of the session: token, session id, protocol version. */
  headers: Record<string, string>;
  /** The bytes of the initialize response. */
  initializeBody: string;
}

/** initialize + notifications/initialized by hand, with the given protocol version (through `fetchLike` when given). */
export async function openRawSession(url: string, token: string, protocolVersion: string, fetchLike: FetchLike = fetch): Promise<RawSession> {
  const authorization = `Bearer ${token}`;
  const initialize = {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion, capabilities: { sampling: {}, elicitation: { form: {} } }, clientInfo: { name: "raw", version: "1" } },
  };
  const response = await fetchLike(url, { method: "POST", headers: { ...MCP_HEADERS, authorization }, body: JSON.stringify(initialize) });
  if (response.status !== 200) throw new Error(`initialize answered ${response.status}: ${await response.text()}`);
  const initializeBody = await response.text();
  const headers = { authorization, "mcp-session-id": response.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": protocolVersion };
  const initialized = await fetchLike(url, {
    method: "POST",
    headers: { ...MCP_HEADERS, ...headers },
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`);
  return { headers, initializeBody };
}

/** A tools/call request, with a progress token. */
export function toolCall(id: number, name: string, args: Record<string, unknown>): Record<string, unknown> {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args, _meta: { progressToken: `progress-${id}` } } };
}
