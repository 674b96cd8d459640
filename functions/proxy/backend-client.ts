/**
 * The HTTP client the gateway reaches backend servers with: node:http (and node:https) with keep-alive agents, its
 * answer handed on as a web-standard Response, whose body is the socket's bytes as they come.
 *
 * Why not `fetch`: on a Lambda's share of a CPU, undici's request machinery costs several times what node:http does
 * for the same small JSON exchange (docs/performance.md). The request is the gateway's own either way: its headers are
 * exactly those given (no `accept-encoding`, so no server compresses; no `sec-fetch-*`), its body a string whose length
 * the client frames, and redirects are not followed (the answer is what the backend said).
 *
 * Idle kept-alive connections are closed before servers close theirs. A request is never sent twice, not even when
 * a reused connection resets before any answer: the server may have read it already (and run a tool call).
 */
import http from "node:http";
import https from "node:https";

/** Idle connections are closed after this, in milliseconds: before the 5 s node servers keep them by default. */
const IDLE_SOCKET_MS = 4_000;

const agents = {
  "http:": new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  "https:": new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
} as const;

/** Statuses whose answer has no body, whatever the server sent. */
const NO_BODY = new Set([204, 205, 304]);

export interface BackendRequest {
  method: string;
  headers: Headers;
  /** The judged text, when the request has a body. */
  body?: string;
  /** Aborting it destroys the request and, once answered, the answer's body. */
  signal: AbortSignal;
}

/** The answer's body as a web stream: chunks as they arrive, the socket paused while the reader is behind. */
function bodyStream(answer: http.IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        answer.on("data", (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) answer.pause();
        });
        answer.once("end", () => controller.close());
        answer.once("error", (err) => controller.error(err));
        answer.once("aborted", () => controller.error(new Error("the backend's connection closed before its answer ended")));
      },
      pull() {
        answer.resume();
      },
      cancel() {
        answer.destroy();
      },
    },
    { highWaterMark: 1 },
  );
}

function headersOf(answer: http.IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** Sends one request to a backend; rejects with the socket's error (its `code`: ECONNREFUSED, ...) or an AbortError. */
export function sendToBackend(url: URL, init: BackendRequest): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const agent = agents[url.protocol as keyof typeof agents];
    const headers: Record<string, string> = {};
    for (const [name, value] of init.headers) headers[name] = value;
    if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
    const request = (url.protocol === "https:" ? https : http).request(url, { method: init.method, headers, agent, signal: init.signal });
    request.once("response", (answer) => {
      const status = answer.statusCode ?? 502;
      const body = NO_BODY.has(status) ? null : bodyStream(answer);
      if (body === null) answer.on("error", () => undefined).resume();
      try {
        resolve(new Response(body, { status, headers: headersOf(answer) }));
      } catch (err) {
        answer.destroy();
        reject(err);
      }
    });
    // Kept for the request's whole life: a socket failing after the answer came reaches the body's stream instead.
    request.on("error", reject);
    request.end(init.body);
  });
}
