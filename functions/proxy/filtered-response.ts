/**
 * Turns the backend's response into the client's: MCP headers kept, the media type written by the gateway, list
 * results filtered in JSON bodies and in every SSE event, everything else passed on as it came. The client receives
 * the bytes that were judged: a body in another charset than UTF-8, or a successful answer that is neither JSON nor
 * SSE, is refused (502) rather than passed on for the client to read its own way, and a message naming a key twice is
 * re-serialised from what was judged. An event stream is kept alive with SSE comments between its events while it
 * is silent (mcp/sse-keep-alive.ts). The access log line is written when the body is done.
 */
import { UpstreamError } from "../errors.js";
import { errorResponse, type JsonRpcId } from "../mcp/jsonrpc.js";
import type { AccessLog } from "../http/access-log.js";
import { parseMediaType, readsAsUtf8 } from "../http/media-type.js";
import { MAX_JSON_DEPTH, readJson } from "../mcp/json-text.js";
import { filterListResults, type ItemPredicate } from "../mcp/list-filter.js";
import { LastEvent, createSseFilter } from "../mcp/sse.js";
import { withKeepAlive } from "../mcp/sse-keep-alive.js";
import { openEventStream } from "./sse-opening.js";
import { clientFacingHeaders, readBodyBeforeDeadline, type UpstreamResponse } from "./upstream.js";

/** What the client is told when the backend's stream breaks off before answering its request. */
const BROKEN_STREAM_MESSAGE = "Bad gateway: the MCP server's stream broke off before it answered";

/** What the client is told when a stream answered early proves to be no event stream (proxy/sse-opening.ts). */
const NOT_AN_EVENT_STREAM_MESSAGE = "Bad gateway: the MCP server's answer is not an event stream";

/** JSON-RPC error code for a server-to-client request that a buffered front door cannot deliver in time. */
export const NOT_ON_THIS_FRONT_DOOR = -32005;

export interface ResponseFiltering {
  /** Whether the caller may see a listed item. */
  allows: ItemPredicate;
  log: AccessLog;
  /**
   * The id of the single JSON-RPC request this response answers, if there is one; used only to tell the client when
   * the backend's stream breaks off before answering it.
   */
  pendingRequestId?: JsonRpcId | undefined;
  /**
   * False on a buffered front door: the client receives nothing until the call has ended, so it could never answer a
   * request the server sends during the call, and the call would hang until its timeout. The exchange is ended at the
   * first such request instead: the events before it pass, then a JSON-RPC error (NOT_ON_THIS_FRONT_DOOR) answers the
   * client's request, and the backend's stream is closed.
   */
  carriesServerRequests: boolean;
  /** Largest JSON body or SSE event read from the backend, in bytes (`MAX_BACKEND_MESSAGE_BYTES`). */
  maxMessageBytes: number;
  /**
   * The response answers a POST. Its stream must then show itself as SSE (its first field) before the client is
   * answered, so a JSON body labelled `text/event-stream` is refused with 502 instead of reaching a client that might
   * read it as JSON. A GET stream may stay silent for long, so its events are checked one by one instead.
   */
  answersPost: boolean;
  /**
   * Milliseconds without a byte to the client after which an event stream gets an SSE comment (`: keep-alive`), so
   * front doors that cut silent responses keep it open (`SSE_KEEPALIVE_SECONDS`); a POST whose backend has not sent
   * its first field by then is answered with one (proxy/sse-opening.ts). 0: none, and a POST waits for its first
   * field however long, as on a buffered front door, where the client receives the body whole and comments would
   * only add bytes to it. Default 0.
   */
  keepAliveMs?: number;
  /**
   * Rewrites each message after filtering (the aggregated endpoint's client-facing ids for the server's requests);
   * returns the message itself when nothing changes. Default: none.
   */
  rewrite?: (message: unknown) => unknown;
  /** Rewrites the id of each SSE event (the aggregated endpoint's `<server>:<id>`). Default: ids pass as they came. */
  rewriteEventId?: (id: string) => string;
}

/**
 * Passes a stream through and reports once how it ended (finished, failed, or cancelled by the client). A backend
 * stream that fails is ended cleanly for the client, after a final event with a JSON-RPC error for the request it
 * was still to answer (if any), so the client is told instead of waiting forever.
 */
function onStreamEnd(
  stream: ReadableStream<Uint8Array>,
  finalEventOnFailure: () => string | undefined,
  finalEventOnEnd: () => string | undefined,
  done: (outcome: string | undefined) => void,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: finished } = await reader.read();
        if (finished) {
          const finalEvent = finalEventOnEnd();
          if (finalEvent) controller.enqueue(new TextEncoder().encode(finalEvent));
          controller.close();
          done(undefined);
        } else {
          controller.enqueue(value);
        }
      } catch (err) {
        done(`backend stream failed: ${err instanceof Error ? err.message : String(err)}`);
        const finalEvent = finalEventOnFailure();
        if (finalEvent) controller.enqueue(new TextEncoder().encode(finalEvent));
        controller.close();
      }
    },
    async cancel(reason) {
      done("client closed the stream");
      await reader.cancel(reason);
    },
  });
}

function answers(message: unknown, id: JsonRpcId): boolean {
  const candidates = Array.isArray(message) ? message : [message];
  return candidates.some((m) => typeof m === "object" && m !== null && "id" in m && m.id === id && ("result" in m || "error" in m));
}

/** A request from the server to the client (sampling, elicitation, roots, ping), alone or in a batch. */
function serverRequestMethod(message: unknown): string | undefined {
  for (const m of Array.isArray(message) ? message : [message]) {
    if (typeof m === "object" && m !== null && "id" in m && "method" in m && typeof m.method === "string") return m.method;
  }
  return undefined;
}

export async function filteredResponse(upstream: UpstreamResponse, filtering: ResponseFiltering): Promise<Response> {
  const { response } = upstream;
  const { log } = filtering;
  const headers = clientFacingHeaders(response);
  const sessionId = response.headers.get("mcp-session-id");
  if (sessionId) log.entry.sessionId = sessionId;
  const label = response.headers.get("content-type");
  const mediaType = label === null ? undefined : parseMediaType(label);
  if (mediaType && !readsAsUtf8(mediaType)) {
    upstream.stopTimer();
    await response.body?.cancel();
    throw new UpstreamError(`backend labelled its answer ${label}, which does not read as UTF-8; the client would decode other text than the gateway judged`);
  }
  const type = mediaType?.type ?? "";
  // The gateway's own label: the backend's type, none of its parameters.
  if (type) headers.set("content-type", type);
  if (type === "text/event-stream" && response.body) return sseResponse(upstream, response.body, headers, filtering);
  return jsonResponse(upstream, type, headers, filtering);
}

async function sseResponse(upstream: UpstreamResponse, backendBody: ReadableStream<Uint8Array>, headers: Headers, filtering: ResponseFiltering): Promise<Response> {
  const { response } = upstream;
  const { log, allows, pendingRequestId, carriesServerRequests, keepAliveMs = 0 } = filtering;
  upstream.stopTimer();
  let body = backendBody;
  let answeredEarly = false;
  let notAnEventStream = false;
  if (filtering.answersPost) {
    const opening = await openEventStream(backendBody, keepAliveMs, (problem) => {
      notAnEventStream = true;
      log.entry.reason = problem;
    });
    ({ stream: body, answeredEarly } = opening);
  }
  let answered = pendingRequestId === undefined;
  let dropped = false;
  const failedRequestEvent = (message: string) =>
    `event: message\ndata: ${JSON.stringify(errorResponse(pendingRequestId ?? null, -32003, message))}\n\n`;
  const filtered = body.pipeThrough(
    createSseFilter(
      (message) => {
        const serverRequest = carriesServerRequests ? undefined : serverRequestMethod(message);
        if (serverRequest !== undefined) {
          // The error answers the client's request and ends the stream; the backend's stream is cancelled with it.
          answered = true;
          log.entry.reason = `backend sent ${serverRequest} during the call; a buffered front door cannot deliver it`;
          return new LastEvent(errorResponse(pendingRequestId ?? null, NOT_ON_THIS_FRONT_DOOR, `Not supported on this front door: the MCP server sent ${serverRequest}, which needs an answer while the call runs, and this front door delivers nothing until the call has ended`));
        }
        if (!answered && answers(message, pendingRequestId as JsonRpcId)) answered = true;
        const outcome = filterListResults(message, allows);
        log.countRemoved(outcome.removed);
        const rewritten = filtering.rewrite ? filtering.rewrite(outcome.message) : outcome.message;
        return rewritten === message ? undefined : rewritten;
      },
      () => {
        dropped = true;
        log.entry.reason = "backend sent an SSE event whose data is not JSON; it was dropped";
      },
      {
        maxEventBytes: filtering.maxMessageBytes,
        mapEventId: filtering.rewriteEventId,
        onOversized: () => {
          log.entry.reason = `backend sent an SSE event larger than ${filtering.maxMessageBytes} bytes (MAX_BACKEND_MESSAGE_BYTES); the stream was ended`;
          if (answered) return undefined;
          answered = true;
          return failedRequestEvent(`Bad gateway: the MCP server sent a message larger than ${filtering.maxMessageBytes} bytes`);
        },
      },
    ),
  );
  const finalEvent = () => (answered ? undefined : failedRequestEvent(notAnEventStream ? NOT_AN_EVENT_STREAM_MESSAGE : BROKEN_STREAM_MESSAGE));
  // A stream may legitimately end before its answer (the client resumes it with Last-Event-ID); but when the gateway
  // itself dropped an event, or refused the stream, the answer may have been in it, and the client must not wait for
  // it forever.
  const clientBody = onStreamEnd(filtered, finalEvent, () => (dropped || notAnEventStream ? finalEvent() : undefined), (problem) => {
    if (problem) log.entry.reason = problem;
    log.write(response.status);
  });
  // Outermost, so comments go between the events the client receives, and the timer ends with the client's stream.
  const kept = withKeepAlive(clientBody, { intervalMs: keepAliveMs, opensWithComment: answeredEarly });
  return new Response(kept, { status: response.status, headers });
}

async function jsonResponse(upstream: UpstreamResponse, type: string, headers: Headers, filtering: ResponseFiltering): Promise<Response> {
  const { response } = upstream;
  const { log } = filtering;
  const text = response.body ? await readBodyBeforeDeadline(upstream, filtering.maxMessageBytes) : (upstream.stopTimer(), "");
  let body = text;
  if (text.length > 0) {
    const reading = readJson(text);
    if ("problem" in reading) {
      // A list the gateway cannot read is a list it cannot filter: never pass it on. Whatever the label says, a
      // successful MCP answer is JSON or SSE; only the backend's own error pages (4xx, 5xx) pass as they came.
      if (reading.problem === "nested too deeply") throw new UpstreamError(`backend answered with JSON nested more than ${MAX_JSON_DEPTH} levels deep`);
      if (type === "application/json" || (response.status >= 200 && response.status < 300)) {
        throw new UpstreamError(`backend answered with a ${type || "unlabelled"} body that is not JSON`);
      }
    } else {
      // Filtered whatever the content type claims: a client may read a mislabelled body all the same.
      const outcome = filterListResults(reading.value, filtering.allows);
      log.countRemoved(outcome.removed);
      const rewritten = filtering.rewrite ? filtering.rewrite(outcome.message) : outcome.message;
      // Rewritten when filtered, and when a key is named twice: a client keeping the first would read other items.
      if (rewritten !== reading.value || reading.duplicateKeys) body = JSON.stringify(rewritten);
    }
  }
  log.write(response.status);
  return new Response(response.status === 204 || response.status === 304 ? null : body, { status: response.status, headers });
}
