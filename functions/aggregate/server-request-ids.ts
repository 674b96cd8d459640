/**
 * Requests a server sends the client (sampling, elicitation, roots, ping) cross the aggregated endpoint with their id
 * rewritten to say which server asked: `<server>:<the server's id as JSON>`. The client answers under that id, and
 * the answer goes back to that server alone, under its own id. Two servers may use the same ids; the client sees
 * them apart. A client forging an id can reach only its own session with a server that never asked: the server
 * drops an answer to a request it did not send.
 *
 * The ids of the servers' SSE events are rewritten alike, `<server>:<the server's event id>`, so a client resuming a
 * stream with `Last-Event-ID` is sent back to the server whose stream it was, with that server's own id.
 */
import type { JsonRpcId } from "../mcp/jsonrpc.js";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The id the client sees for server `server`'s request `id`. */
export function clientFacingId(server: string, id: JsonRpcId): string {
  return `${server}:${JSON.stringify(id)}`;
}

/** The server and its own id inside a client-facing id; undefined for any id the gateway did not write. */
export function serverRequestOrigin(id: unknown, servers: ReadonlySet<string>): { server: string; id: JsonRpcId } | undefined {
  if (typeof id !== "string") return undefined;
  const at = id.indexOf(":");
  if (at <= 0 || !servers.has(id.slice(0, at))) return undefined;
  try {
    const own = JSON.parse(id.slice(at + 1)) as unknown;
    return typeof own === "string" || (typeof own === "number" && Number.isFinite(own)) ? { server: id.slice(0, at), id: own } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A server's message as the client receives it: a request from the server gets a client-facing id; everything else
 * (notifications, answers to the client's own requests) is returned as it is.
 */
export function withClientFacingId(message: unknown, server: string): unknown {
  if (Array.isArray(message)) {
    const rewritten = message.map((element) => withClientFacingId(element, server));
    return rewritten.every((element, index) => element === message[index]) ? message : rewritten;
  }
  if (!isObject(message) || typeof message.method !== "string" || !("id" in message)) return message;
  return { ...message, id: clientFacingId(server, message.id as JsonRpcId) };
}

/** The SSE event id the client sees for server `server`'s event `id`. */
export function clientFacingEventId(server: string, id: string): string {
  return `${server}:${id}`;
}

/** The server and its own event id inside a client's `Last-Event-ID`; undefined for any id the gateway did not write. */
export function eventIdOrigin(lastEventId: string, servers: ReadonlySet<string>): { server: string; id: string } | undefined {
  const at = lastEventId.indexOf(":");
  const server = lastEventId.slice(0, at);
  return at > 0 && at < lastEventId.length - 1 && servers.has(server) ? { server, id: lastEventId.slice(at + 1) } : undefined;
}
