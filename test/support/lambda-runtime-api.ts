/**
 * A local Lambda Runtime API (version 2018-06-01), for running a function under AWS's own runtime client
 * (aws-lambda-ric, see lambda-runtime-client.ts) the way Lambda runs it: the runtime asks for an invocation, runs the
 * handler, and posts the response (buffered, or streamed in chunks) or an error; an init failure is posted once.
 * One invocation at a time, as in a Lambda (default) execution environment.
 *
 * What it relies on, and where that is written down:
 * - https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html (source: awsdocs/aws-lambda-developer-guide,
 *   doc_source/runtimes-api.md):
 *   - `GET /2018-06-01/runtime/invocation/next` answers with the event as a JSON body and the headers
 *     `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms` (Unix time in ms), `Lambda-Runtime-Invoked-
 *     Function-Arn` and `Lambda-Runtime-Trace-Id` (an X-Ray tracing header); Client-Context and Cognito-Identity only
 *     for mobile SDK invocations, so never here. The request waits until there is an event ("do not set a timeout on
 *     the GET request", the page's current version says).
 *   - `POST .../invocation/{AwsRequestId}/response` carries the result; `POST .../invocation/{AwsRequestId}/error` and
 *     `POST /2018-06-01/runtime/init/error` carry `{ errorMessage, errorType, stackTrace }` with the error type in the
 *     `Lambda-Runtime-Function-Error-Type` header. All three are answered 202 Accepted, the success status of the
 *     API's OpenAPI document (runtime-api.zip, linked from that page) as the runtime clients built on it expect it
 *     (aws-lambda-cpp, inside the RIC, takes any 2xx); a request this API cannot place is answered 400.
 * - https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming: a streamed
 *   response is the same `/response` request with `Lambda-Runtime-Function-Response-Mode: streaming` and
 *   `Transfer-Encoding: chunked`, its `Content-Type` passed on to the client; an error after the first bytes travels in
 *   the trailers `Lambda-Runtime-Function-Error-Type` and `Lambda-Runtime-Function-Error-Body` (base64), declared in a
 *   `Trailer` header; `/error` may only be used before the response has started.
 * - https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html: a response in
 *   the content type `application/vnd.awslambda.http-integration-response` starts with a JSON prelude (statusCode,
 *   headers, ...) followed by 8 null bytes, then the body.
 * - The runtime client's own side, read in aws-lambda-ric 4.0.2 (test/tools/node_modules/aws-lambda-ric/index.mjs,
 *   from aws/aws-lambda-nodejs-runtime-interface-client): it requires the request id, deadline and function ARN
 *   headers (`ContextBuilder`); buffered results, invocation errors and /next go through its native client
 *   (aws-lambda-cpp over curl), streamed responses and the init error through node:http; it asks for the next event
 *   only once the previous response request has been answered. Its native client posts an invocation error with the
 *   error type in the body only (aws-lambda-cpp's `do_post` sets no `Lambda-Runtime-Function-Error-Type`), so the
 *   header is recorded when present, never required.
 *
 * Not documented by AWS, so chosen here: what a client leaving does to the function. `dropWhen` closes the response
 * connection from this side, the nearest thing the runtime could ever see of it (reports say the managed runtime is
 * not told at all: aws/aws-lambda-nodejs-runtime-interface-client#145). The runtime then has no response to wait for;
 * the invocation counts as over when it asks for the next one.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const API = "/2018-06-01/runtime";
export const HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
const PRELUDE_DELIMITER = Buffer.alloc(8);
const FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:mcp-sso-gateway";

/** An error the runtime posted: the header's error type, and the JSON body. */
export interface PostedError {
  errorTypeHeader: string | undefined;
  body: { errorMessage?: string; errorType?: string; stackTrace?: string[] };
  atMs: number;
}

/** A piece of a streamed body, as this side received it; `atMs` from the start of the invocation. */
export interface ReceivedChunk {
  atMs: number;
  text: string;
}

export interface StreamedResponse {
  contentType: string | undefined;
  /** The HTTP integration prelude (status, headers), when the response carries one. */
  prelude: { statusCode?: number; headers?: Record<string, string>; [field: string]: unknown } | undefined;
  /** The body after the prelude, chunk by chunk as received. */
  chunks: ReceivedChunk[];
  body: string;
  /** The trailers the request declared in its `Trailer` header. */
  declaredTrailers: string[];
  /** The error trailers, if the runtime sent any (the error body base64-decoded). */
  errorTrailer?: { errorType: string | undefined; body: string | undefined };
}

export interface Invocation {
  requestId: string;
  /** performance.now() when the runtime was handed the event. */
  startedAt: number;
  /** The buffered result (its JSON), when the runtime posted one. */
  result?: unknown;
  /** The streamed response, when the runtime streamed one. */
  streamed?: StreamedResponse;
  /** The invocation error, when the runtime posted one. */
  error?: PostedError;
  /** True when `dropWhen` closed the response connection. */
  dropped: boolean;
  /** When, from the start, the response was complete (or dropped), or the error posted. */
  endedAtMs: number;
  /** When, from the start, the runtime was done with it: as `endedAtMs`, or its next request after a drop. */
  overAtMs: number;
}

export interface InvokeOptions {
  /** Closes the streamed response's connection once this returns true for a body chunk (the client went away). */
  dropWhen?: (chunk: ReceivedChunk) => boolean;
  /** How long the function may take; sent as the deadline, and then the invocation fails the test. Default 20 s. */
  timeoutMs?: number;
}

export interface RuntimeApi {
  /** host:port, for AWS_LAMBDA_RUNTIME_API. */
  address: string;
  /** Every request the runtime made ("GET /next", "POST /response", ...), in order. */
  requests: string[];
  /** Every invocation handed to the runtime, in order. */
  invocations: Invocation[];
  /** Resolves when the runtime first asks for an invocation: its init is done. */
  initialized: Promise<void>;
  /** Resolves with the init error, if the runtime posts one. */
  initError: Promise<PostedError>;
  /** Hands `event` to the runtime and resolves when the invocation is over. */
  invoke(event: unknown, options?: InvokeOptions): Promise<Invocation>;
  close(): Promise<void>;
}

interface Pending {
  invocation: Invocation;
  event: unknown;
  options: InvokeOptions;
  finish(): void;
  fail(error: Error): void;
}

function traceHeader(): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${randomBytes(12).toString("hex")};Parent=${randomBytes(8).toString("hex")};Sampled=0`;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString());
  } catch {
    return bytes.toString();
  }
}

function accept(res: ServerResponse): void {
  res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ status: "OK" }));
}

function refuse(res: ServerResponse, message: string): void {
  res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ errorMessage: message, errorType: "InvalidRequest" }));
}

async function readError(req: IncomingMessage, startedAt: number): Promise<PostedError> {
  const header = req.headers["lambda-runtime-function-error-type"];
  const body = parseJson(await readAll(req)) as PostedError["body"];
  return { errorTypeHeader: Array.isArray(header) ? header[0] : header, body, atMs: performance.now() - startedAt };
}

/** Receives a streamed response chunk by chunk, separating the prelude; drops the connection when told to. */
function receiveStream(req: IncomingMessage, pending: Pending, onDone: (streamed: StreamedResponse) => void): void {
  const { invocation, options } = pending;
  const contentType = req.headers["content-type"];
  const integration = contentType === HTTP_INTEGRATION_CONTENT_TYPE;
  const declaredTrailers = (req.headers.trailer ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
  const streamed: StreamedResponse = { contentType, prelude: undefined, chunks: [], body: "", declaredTrailers };
  let head = Buffer.alloc(0);
  let inBody = !integration;
  const bodyParts: Buffer[] = [];

  const bodyChunk = (bytes: Buffer, atMs: number) => {
    if (bytes.length === 0) return;
    bodyParts.push(bytes);
    const chunk = { atMs, text: bytes.toString() };
    streamed.chunks.push(chunk);
    if (!invocation.dropped && options.dropWhen?.(chunk)) {
      invocation.dropped = true;
      invocation.endedAtMs = performance.now() - invocation.startedAt;
      req.socket.destroy();
    }
  };
  req.on("data", (data: Buffer) => {
    const atMs = performance.now() - invocation.startedAt;
    if (inBody) return bodyChunk(data, atMs);
    head = Buffer.concat([head, data]);
    const at = head.indexOf(PRELUDE_DELIMITER);
    if (at === -1) return;
    streamed.prelude = parseJson(head.subarray(0, at)) as StreamedResponse["prelude"];
    inBody = true;
    bodyChunk(head.subarray(at + PRELUDE_DELIMITER.length), atMs);
  });
  req.on("end", () => {
    streamed.body = Buffer.concat(bodyParts).toString();
    const errorType = req.trailers["lambda-runtime-function-error-type"];
    const errorBody = req.trailers["lambda-runtime-function-error-body"];
    if (errorType !== undefined || errorBody !== undefined) {
      streamed.errorTrailer = { errorType, body: errorBody === undefined ? undefined : Buffer.from(errorBody, "base64").toString() };
    }
    onDone(streamed);
  });
  // A dropped connection ends nothing here: the invocation is over when the runtime asks for the next one.
  invocation.streamed = streamed;
}

export async function startRuntimeApi(): Promise<RuntimeApi> {
  const requests: string[] = [];
  const invocations: Invocation[] = [];
  const queue: Pending[] = [];
  let current: Pending | undefined;
  let waitingForNext: ServerResponse | undefined;
  let markInitialized!: () => void;
  const initialized = new Promise<void>((resolve) => (markInitialized = resolve));
  let reportInitError!: (error: PostedError) => void;
  const initError = new Promise<PostedError>((resolve) => (reportInitError = resolve));
  const startedAt = performance.now();

  function handOver(): void {
    if (!waitingForNext || current || queue.length === 0) return;
    const res = waitingForNext;
    waitingForNext = undefined;
    current = queue.shift() as Pending;
    const { invocation, event, options } = current;
    invocation.startedAt = performance.now();
    invocations.push(invocation);
    res.writeHead(200, {
      "content-type": "application/json",
      "lambda-runtime-aws-request-id": invocation.requestId,
      "lambda-runtime-deadline-ms": String(Date.now() + (options.timeoutMs ?? 20_000)),
      "lambda-runtime-invoked-function-arn": FUNCTION_ARN,
      "lambda-runtime-trace-id": traceHeader(),
    });
    res.end(JSON.stringify(event));
  }

  function finishCurrent(): void {
    const finished = current;
    current = undefined;
    if (finished) finished.invocation.overAtMs = performance.now() - finished.invocation.startedAt;
    finished?.finish();
    handOver();
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? "";
    if (req.method === "GET" && path === `${API}/invocation/next`) {
      requests.push("GET /next");
      markInitialized();
      // The runtime asking again means it is done with the invocation, answered or not (a dropped response).
      if (current) finishCurrent();
      waitingForNext = res;
      return handOver();
    }
    if (req.method === "POST" && path === `${API}/init/error`) {
      requests.push("POST /init/error");
      reportInitError(await readError(req, startedAt));
      return accept(res);
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method !== "POST" || !match) return refuse(res, `no such path: ${req.method} ${path}`);
    const [, id, kind] = match;
    requests.push(`POST /${kind}`);
    if (!current || decodeURIComponent(id as string) !== current.invocation.requestId) {
      current?.fail(new Error(`the runtime answered request ${id}, not the invocation in progress`));
      return refuse(res, `unknown request id ${id}`);
    }
    const pending = current;
    const { invocation } = pending;
    if (kind === "error") {
      invocation.error = await readError(req, invocation.startedAt);
      invocation.endedAtMs = invocation.error.atMs;
      accept(res);
      return finishCurrent();
    }
    if (req.headers["lambda-runtime-function-response-mode"] === "streaming") {
      if (req.headers["transfer-encoding"] !== "chunked") {
        pending.fail(new Error("a streamed response must be sent with Transfer-Encoding: chunked"));
        return refuse(res, "streaming needs chunked transfer encoding");
      }
      return receiveStream(req, pending, () => {
        invocation.endedAtMs = performance.now() - invocation.startedAt;
        accept(res);
        finishCurrent();
      });
    }
    invocation.result = parseJson(await readAll(req));
    invocation.endedAtMs = performance.now() - invocation.startedAt;
    accept(res);
    finishCurrent();
  }

  const server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => refuse(res, String(err)));
  });
  // A streamed response may take as long as the function runs; a long poll for /next as long as no event comes.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    address: `127.0.0.1:${port}`,
    requests,
    invocations,
    initialized,
    initError,
    invoke(event, options = {}) {
      return new Promise<Invocation>((resolve, reject) => {
        const invocation: Invocation = { requestId: randomUUID(), startedAt: NaN, dropped: false, endedAtMs: NaN, overAtMs: NaN };
        const timeoutMs = (options.timeoutMs ?? 20_000) + 5_000;
        const timer = setTimeout(() => reject(new Error(`invocation ${invocation.requestId} did not end within ${timeoutMs} ms`)), timeoutMs);
        const pending: Pending = {
          invocation,
          options,
          event,
          finish: () => (clearTimeout(timer), resolve(invocation)),
          fail: (error: Error) => (clearTimeout(timer), reject(error)),
        };
        queue.push(pending);
        handOver();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
