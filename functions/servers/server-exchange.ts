/**
 * One request the gateway itself sends a server and the one answer it reads back, whether the server answers in JSON
 * or in an event stream: what the aggregated endpoint fans out (initialize, lists, lookups of who owns a resource).
 *
 * The whole exchange must end within the server's timeout, stream included: a slow server costs its own part of a
 * fan-out, never the rest. Whatever goes wrong (unreachable, an error status, no answer, a JSON-RPC error, an
 * unreadable body) is an ExchangeFailure naming it; notifications the server sends meanwhile are counted, not passed.
 */
import { UpstreamTimeoutError } from "../errors.js";
import { parseMediaType } from "../http/media-type.js";
import { readJson } from "../mcp/json-text.js";
import type { JsonRpcMessage } from "../mcp/jsonrpc.js";
import { createSseFilter } from "../mcp/sse.js";
import { forwardToBackend, readBodyBeforeDeadline } from "../proxy/upstream.js";
import type { BackendServer, HeaderList } from "./backend-server.js";

/** A server's answer could not be had; `reason` is for the log and the list's `_meta`. */
export class ExchangeFailure extends Error {
  constructor(
    readonly server: string,
    readonly reason: string,
    /** The JSON-RPC error code, when the server answered with an error. */
    readonly code?: number,
  ) {
    super(`${server}: ${reason}`);
    this.name = "ExchangeFailure";
  }
}

export interface ExchangeAnswer {
  /** The JSON-RPC response answering the request (a result; errors are ExchangeFailure). */
  answer: JsonRpcMessage & { result: Record<string, unknown> };
  /** The response's headers (`Mcp-Session-Id`, `Mcp-Protocol-Version` after an initialize). */
  headers: Headers;
  /** Notifications the server sent before its answer, which a fan-out does not pass on. */
  notificationsDropped: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function answerTo(message: unknown, id: unknown): JsonRpcMessage | undefined {
  return isObject(message) && message.id === id && ("result" in message || "error" in message) ? (message as unknown as JsonRpcMessage) : undefined;
}

/** Reads an event stream until the event answering `id`; the timer keeps running meanwhile. */
async function answerInStream(body: ReadableStream<Uint8Array>, id: unknown, maxBytes: number, deadline: Promise<never>): Promise<{ answer?: JsonRpcMessage; notifications: number }> {
  let answer: JsonRpcMessage | undefined;
  let notifications = 0;
  const events = body.pipeThrough(
    createSseFilter(
      (message) => {
        const found = answerTo(message, id);
        if (found) answer = found;
        else notifications++;
        return undefined;
      },
      undefined,
      { maxEventBytes: maxBytes },
    ),
  );
  const reader = events.getReader();
  const read = async () => {
    while (answer === undefined) {
      const { done } = await reader.read();
      if (done) break;
    }
  };
  try {
    await Promise.race([read(), deadline]);
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return { answer, notifications };
}

/**
 * Sends `message` (a request the gateway wrote) to `server` with the client's MCP headers of `request` and the
 * gateway's `headers`, and returns its answer.
 */
export async function exchange(
  request: Request,
  server: BackendServer,
  message: JsonRpcMessage,
  headers: HeaderList,
  maxBytes: number,
): Promise<ExchangeAnswer> {
  let upstream;
  try {
    // Routing headers (2026-07-28) must name this message, which may not be the client's (a lookup during a read).
    const routing: Array<readonly [string, string]> = request.headers.has("mcp-method") && message.method ? [["mcp-method", message.method]] : [];
    // Fan-outs answer a client's POST, so the request's method and MCP headers are those of a POST already.
    upstream = await forwardToBackend(request, JSON.stringify(message), server.config, [...headers, ...routing], ["last-event-id", "mcp-name", "mcp-method"]);
  } catch (err) {
    throw new ExchangeFailure(server.name, err instanceof UpstreamTimeoutError ? "did not answer in time" : (err as Error).message);
  }
  const { response } = upstream;
  try {
    if (response.status < 200 || response.status > 299) throw new ExchangeFailure(server.name, `answered HTTP ${response.status}`);
    const type = parseMediaType(response.headers.get("content-type") ?? "").type;
    let answer: JsonRpcMessage | undefined;
    let notifications = 0;
    if (type === "text/event-stream" && response.body) {
      ({ answer, notifications } = await answerInStream(response.body, message.id, maxBytes, upstream.deadline));
    } else {
      const reading = readJson(await readBodyBeforeDeadline(upstream, maxBytes));
      answer = "problem" in reading ? undefined : answerTo(reading.value, message.id);
    }
    if (!answer) throw new ExchangeFailure(server.name, "sent no answer to the gateway's request");
    if (!isObject(answer.result)) {
      const error = isObject(answer.error) ? answer.error : {};
      throw new ExchangeFailure(server.name, `answered with JSON-RPC error ${String(error.code)}: ${String(error.message)}`, typeof error.code === "number" ? error.code : undefined);
    }
    return { answer: answer as ExchangeAnswer["answer"], headers: response.headers, notificationsDropped: notifications };
  } catch (err) {
    await response.body?.cancel().catch(() => undefined);
    if (err instanceof ExchangeFailure) throw err;
    throw new ExchangeFailure(server.name, err instanceof UpstreamTimeoutError ? "did not answer in time" : (err as Error).message);
  } finally {
    upstream.stopTimer();
  }
}
