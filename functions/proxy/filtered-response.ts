/**
 * Turns the backend's response into the client's: MCP headers kept, list results filtered in JSON bodies and in
 * every SSE event, everything else passed on as it came. The access log line is written when the body is done.
 */
import { UpstreamError } from "../errors.js";
import { errorResponse, type JsonRpcId } from "../mcp/jsonrpc.js";
import type { AccessLog } from "../http/access-log.js";
import { filterListResults, type ItemPredicate } from "../mcp/list-filter.js";
import { LastEvent, createSseFilter } from "../mcp/sse.js";
import { clientFacingHeaders, readBodyBeforeDeadline, type UpstreamResponse } from "./upstream.js";

function mediaType(headers: Headers): string {
  return (headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** What the client is told when the backend's stream breaks off before answering its request. */
const BROKEN_STREAM_MESSAGE = "Bad gateway: the MCP server's stream broke off before it answered";

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

/** JSON-RPC error code for a server-to-client request that a buffered front door cannot deliver in time. */
export const NOT_ON_THIS_FRONT_DOOR = -32005;

/**
 * @param pendingRequestId the id of the single JSON-RPC request this response answers, if there is one; used only
 *   to tell the client when the backend's stream breaks off before answering it.
 * @param carriesServerRequests false on a buffered front door: the client receives nothing until the call has ended,
 *   so it could never answer a request the server sends during the call, and the call would hang until its timeout.
 *   The exchange is ended at the first such request instead: the events before it pass, then a JSON-RPC error
 *   (NOT_ON_THIS_FRONT_DOOR) answers the client's request, and the backend's stream is closed.
 */
export async function filteredResponse(
  upstream: UpstreamResponse,
  allows: ItemPredicate,
  log: AccessLog,
  pendingRequestId?: JsonRpcId,
  carriesServerRequests = true,
): Promise<Response> {
  const { response } = upstream;
  const headers = clientFacingHeaders(response);
  const sessionId = response.headers.get("mcp-session-id");
  if (sessionId) log.entry.sessionId = sessionId;
  const type = mediaType(response.headers);

  if (type === "text/event-stream" && response.body) {
    upstream.stopTimer();
    let answered = pendingRequestId === undefined;
    let dropped = false;
    const filtered = response.body.pipeThrough(
      createSseFilter((message) => {
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
        return outcome.message === message ? undefined : outcome.message;
      }, () => {
        dropped = true;
        log.entry.reason = "backend sent an SSE event whose data is not JSON; it was dropped";
      }),
    );
    const finalEvent = () =>
      answered ? undefined : `event: message\ndata: ${JSON.stringify(errorResponse(pendingRequestId, -32003, BROKEN_STREAM_MESSAGE))}\n\n`;
    // A stream may legitimately end before its answer (the client resumes it with Last-Event-ID); but when the gateway
    // itself dropped an event, the answer may have been that event, and the client must not wait for it forever.
    const body = onStreamEnd(filtered, finalEvent, () => (dropped ? finalEvent() : undefined), (problem) => {
      if (problem) log.entry.reason = problem;
      log.write(response.status);
    });
    return new Response(body, { status: response.status, headers });
  }

  const text = response.body ? await readBodyBeforeDeadline(upstream) : (upstream.stopTimer(), "");
  let body = text;
  if (text.length > 0) {
    const message = parseJson(text);
    if (message === undefined) {
      // A list the gateway cannot read is a list it cannot filter: never pass it on. Whatever the label says, a
      // successful MCP answer is JSON or SSE; only the backend's own error pages (4xx, 5xx) pass as they came.
      if (type === "application/json" || (response.status >= 200 && response.status < 300)) {
        throw new UpstreamError(`backend answered with a ${type || "unlabelled"} body that is not JSON`);
      }
    } else {
      // Filtered whatever the content type claims: a client may read a mislabelled body all the same.
      const outcome = filterListResults(message, allows);
      log.countRemoved(outcome.removed);
      if (outcome.message !== message) body = JSON.stringify(outcome.message);
    }
  }
  log.write(response.status);
  return new Response(response.status === 204 || response.status === 304 ? null : body, { status: response.status, headers });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
