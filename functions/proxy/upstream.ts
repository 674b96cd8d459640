/**
 * Sends an authorized request on to the backend MCP server over Streamable HTTP.
 *
 * Only the headers MCP needs cross the gateway, in both directions. The caller's Authorization header (and cookies)
 * never reach the backend: the MCP spec forbids passing the client's token through. A backend that cannot be reached
 * becomes UpstreamError (502); one that sends no response headers within `backendTimeoutMs` becomes
 * UpstreamTimeoutError (504). A caller who disconnects cancels the backend request too.
 */
import type { BackendConfig } from "../config/backends.js";
import { ClientClosedRequestError, UpstreamError, UpstreamTimeoutError } from "../errors.js";
import { readTextWithin } from "../http/bounded-text.js";
import { parseMediaType } from "../http/media-type.js";
import { sendToBackend } from "./backend-client.js";

/**
 * Client headers passed to the backend as they came (`Mcp-Param-*` come checked, among the gateway's own; the
 * session id is always the gateway's, the backend's own id from the one the client holds). Nothing
 * that says how to decode the body is among them: the gateway writes the body's `Content-Type` itself, and the
 * body's framing (length, no transfer or content coding) is the HTTP client's.
 */
const REQUEST_HEADERS = ["accept", "mcp-protocol-version", "last-event-id", "mcp-method", "mcp-name", "user-agent"];

/** Backend headers passed to the client as they came; the media type is written by the response filter. */
const RESPONSE_HEADERS = ["mcp-session-id", "mcp-protocol-version", "cache-control", "allow", "retry-after"];

export interface UpstreamResponse {
  response: Response;
  /** Stops the response timer: the body was read, or it is a stream that may legitimately run long. */
  stopTimer(): void;
  /** Rejects when the timer fires (504) while the body is still being read. */
  readonly deadline: Promise<never>;
}

function pickHeaders(from: Headers, names: readonly string[]): Headers {
  const picked = new Headers();
  for (const name of names) {
    const value = from.get(name);
    if (value !== null) picked.set(name, value);
  }
  return picked;
}

export function clientFacingHeaders(backend: Response): Headers {
  return pickHeaders(backend.headers, RESPONSE_HEADERS);
}

/**
 * @param extraHeaders headers the gateway adds itself (its own credential for the backend, the caller's identity, the
 *   backend's session id) or passes once checked (`Mcp-Param-*`); they replace the client's of the same name.
 * @param omitHeaders client headers this backend must not get (another server's `Last-Event-ID`).
 */
export async function forwardToBackend(
  request: Request,
  body: string | undefined,
  config: Pick<BackendConfig, "url" | "timeoutMs">,
  extraHeaders: ReadonlyArray<readonly [string, string]> = [],
  omitHeaders: readonly string[] = [],
): Promise<UpstreamResponse> {
  // One controller for both ways a request ends early: the timer firing, and the client leaving.
  const abort = new AbortController();
  let timedOut = false;
  let rejectDeadline: (err: Error) => void = () => undefined;
  const deadline = new Promise<never>((_, reject) => {
    rejectDeadline = reject;
  });
  deadline.catch(() => undefined);
  const timeout = setTimeout(() => {
    const error = new UpstreamTimeoutError(config.timeoutMs);
    timedOut = true;
    rejectDeadline(error);
    abort.abort(error);
  }, config.timeoutMs);
  const clientLeft = () => abort.abort(request.signal.reason);
  if (request.signal.aborted) clientLeft();
  else request.signal.addEventListener("abort", clientLeft, { once: true });

  const headers = pickHeaders(request.headers, REQUEST_HEADERS);
  // The body is the UTF-8 JSON the gateway judged; the backend is told exactly that, never the client's parameters.
  if (body !== undefined) headers.set("content-type", "application/json");
  for (const name of omitHeaders) headers.delete(name);
  for (const [name, value] of extraHeaders) headers.set(name, value);
  let response: Response;
  try {
    response = await sendToBackend(config.url, { method: request.method, headers, body, signal: abort.signal });
  } catch (err) {
    clearTimeout(timeout);
    request.signal.removeEventListener("abort", clientLeft);
    if (timedOut) throw new UpstreamTimeoutError(config.timeoutMs);
    if (request.signal.aborted) throw new ClientClosedRequestError({ cause: err });
    const { code, message } = err as { code?: string; message?: string };
    throw new UpstreamError(`backend unreachable: ${code ?? message}`, { cause: err });
  }
  return {
    response,
    // Once the body is read, or streaming (a client leaving then cancels the stream, and the body with it), the
    // client's signal need not reach this request: a kept-alive client connection keeps that signal, and whatever
    // listens to it, for as long as it is open.
    stopTimer: () => {
      clearTimeout(timeout);
      request.signal.removeEventListener("abort", clientLeft);
    },
    deadline,
  };
}

/**
 * Reads a backend body as UTF-8 text before the deadline, and no more than `limit` bytes of it (502 beyond); the timer
 * is stopped either way.
 */
export async function readBodyBeforeDeadline(upstream: UpstreamResponse, limit: number): Promise<string> {
  let text: string | undefined;
  try {
    text = await Promise.race([readTextWithin(upstream.response.body, limit), upstream.deadline]);
  } catch (err) {
    if (err instanceof UpstreamTimeoutError) throw err;
    throw new UpstreamError(`backend response body could not be read: ${(err as Error).message}`, { cause: err });
  } finally {
    upstream.stopTimer();
  }
  if (text === undefined) throw new UpstreamError(`backend answered with a body larger than ${limit} bytes (MAX_BACKEND_MESSAGE_BYTES)`);
  return text;
}

/** Whether the backend answered successfully with an event stream, its label read as the response filter reads it. */
export function answersWithEventStream(upstream: UpstreamResponse): boolean {
  const label = upstream.response.headers.get("content-type");
  if (!upstream.response.ok || label === null) return false;
  try {
    return parseMediaType(label).type === "text/event-stream";
  } catch {
    return false;
  }
}
