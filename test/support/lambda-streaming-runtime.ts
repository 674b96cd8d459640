/**
 * A stand-in for the AWS Lambda Node.js runtime's response-streaming contract, in-process, for fast tests of the
 * streaming adapter and of server-to-client traffic through it. It is not the evidence that the adapter works on
 * Lambda: test/e2e/lambda-runtime-client.test.ts is, running the deployed bundle under AWS's own runtime client
 * (aws-lambda-ric) against a local Runtime API; where the two disagree, that test is right and this file is wrong.
 * It emulates what the runtime does (aws/aws-lambda-nodejs-runtime-interface-client, src/ResponseStream.js and
 * HttpResponseStream.js, and AWS's "Lambda proxy integration format for response streaming"):
 *
 * - `awslambda.streamifyResponse(handler)` marks the handler as streaming and returns that same function; the runtime
 *   then calls it as `handler(event, responseStream, context)`.
 * - The response stream is not a Writable but a plain object exposing a Writable's methods and state (the runtime's
 *   view of its chunked HTTP request to the Runtime API), so code that needs a real stream instance fails here too.
 * - `awslambda.HttpResponseStream.from(stream, prelude)` sets the content type
 *   `application/vnd.awslambda.http-integration-response` and, right before the stream's FIRST `write()` call and only
 *   then, writes the prelude as JSON followed by 8 NUL bytes; the body bytes follow. A stream that is ended without
 *   any `write()` (`end()` alone, or `end(chunk)`) carries no prelude, as on Lambda, where the status and headers are
 *   then never delivered.
 * - The invocation is over when the handler's promise has settled and the stream has finished. Anything the function
 *   does later may never happen (the execution environment is frozen).
 *
 * Not emulated: API Gateway itself (its header rules, the 16 KB limit on the prelude), the function's timeout (an
 * invocation that does not end within `timeoutMs` fails the test instead), the error trailers of a failed invocation.
 * A "disconnect" (`disconnectWhen`, `disconnectAfterMs`) destroys the stream, as the runtime does when its connection
 * to the Runtime API breaks; AWS does not document that a client's disconnect reaches the function at all (reports
 * say it does not: aws/aws-lambda-nodejs-runtime-interface-client#145).
 */
import { Writable } from "node:stream";
import type { Context } from "aws-lambda";

export const HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
const DELIMITER = Buffer.alloc(8);
/** How the runtime recognises a streaming handler. */
const STREAMING_HANDLER = Symbol.for("aws.lambda.runtime.handler.streaming");

type FirstWriteHook = (write: (chunk: string | Uint8Array) => void) => void;

/** The runtime's end of the stream: every write()'s bytes, with the time they arrived. */
class RecordingTransport extends Writable {
  contentType = "application/octet-stream";
  _onBeforeFirstWrite: FirstWriteHook | undefined;
  setContentType: (contentType: string) => void = () => undefined;
  readonly writes: { atMs: number; bytes: Buffer }[] = [];
  afterWrite: () => void = () => undefined;

  constructor(private readonly startedAt: number) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writes.push({ atMs: performance.now() - this.startedAt, bytes: chunk });
    callback();
    this.afterWrite();
  }
}

/** What the runtime's view exposes (its `writableStreamOnly`): methods bound to the stream, state passed through. */
const VIEW_METHODS = [
  ...["cork", "destroy", "end", "uncork", "write", "setContentType"],
  ...["addListener", "emit", "eventNames", "getMaxListeners", "listenerCount", "listeners", "off", "on", "once"],
  ...["prependListener", "prependOnceListener", "rawListeners", "removeAllListeners", "removeListener", "setMaxListeners"],
];
const VIEW_READ_WRITE = ["destroyed", "writable", "_onBeforeFirstWrite"];
const VIEW_READ_ONLY = [
  ...["writableFinished", "writableObjectMode", "writableEnded", "writableNeedDrain", "writableHighWaterMark"],
  ...["writableCorked", "writableLength"],
];

/** The plain object the handler is given, as the runtime gives it. */
function handlerView(transport: RecordingTransport): awslambda.HttpResponseStream {
  const target = transport as unknown as Record<string, unknown>;
  const view: Record<string, unknown> = {};
  for (const name of VIEW_METHODS) view[name] = (target[name] as (...args: unknown[]) => unknown).bind(transport);
  for (const name of VIEW_READ_WRITE) {
    Object.defineProperty(view, name, { get: () => target[name], set: (value: unknown) => (target[name] = value), enumerable: true });
  }
  for (const name of VIEW_READ_ONLY) Object.defineProperty(view, name, { get: () => target[name], enumerable: true });
  return view as unknown as awslambda.HttpResponseStream;
}

function createResponseStream(startedAt: number): { transport: RecordingTransport; view: awslambda.HttpResponseStream } {
  const transport = new RecordingTransport(startedAt);
  let firstWriteDone = false;
  transport.setContentType = (contentType) => {
    if (firstWriteDone) throw new Error("Cannot set content-type, too late.");
    transport.contentType = contentType;
  };
  const write = transport.write.bind(transport) as (chunk: unknown, ...rest: unknown[]) => boolean;
  // As the runtime does: the hook runs on the first write() call only; end(chunk) writes without calling write().
  transport.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!firstWriteDone) transport._onBeforeFirstWrite?.((bytes) => write(bytes));
    firstWriteDone = true;
    return write(chunk, ...rest);
  }) as RecordingTransport["write"];
  return { transport, view: handlerView(transport) };
}

class HttpResponseStream {
  static from(stream: Writable, prelude: Record<string, unknown>): Writable {
    const responseStream = stream as unknown as RecordingTransport;
    responseStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const json = JSON.stringify(prelude);
    responseStream._onBeforeFirstWrite = (write) => {
      write(json);
      write(new Uint8Array(DELIMITER));
    };
    return stream;
  }
}

/**
 * Installs the runtime's members of `globalThis.awslambda`; returns a function that removes them again. They are added
 * to the object already there, if any: libraries add their own members to this global too (AWS's lambda-invoke-store,
 * loaded by Powertools, creates it off Lambda).
 */
export function installLambdaStreamingRuntime(): () => void {
  const existing = Reflect.get(globalThis, "awslambda") as Record<string, unknown> | undefined;
  const global = existing ?? {};
  Object.assign(global, {
    streamifyResponse<T extends object>(handler: T): T {
      return Object.assign(handler, { [STREAMING_HANDLER]: "response" });
    },
    HttpResponseStream,
  });
  Reflect.set(globalThis, "awslambda", global);
  return () => {
    delete global.streamifyResponse;
    delete global.HttpResponseStream;
  };
}

export type StreamingHandler<TEvent> = (event: TEvent, responseStream: awslambda.HttpResponseStream, context: Context) => unknown;

export interface StreamedChunk {
  /** Milliseconds from the start of the invocation to the chunk's arrival. */
  atMs: number;
  text: string;
}

export interface StreamedInvocation {
  /** The content type the function declared for its stream (the HTTP integration type when it used the prelude). */
  contentType: string;
  /** The prelude (statusCode, headers, ...), or undefined when none was written. */
  prelude: { statusCode?: number; headers?: Record<string, string>; [field: string]: unknown } | undefined;
  /** The body as it arrived, chunk by chunk (empty writes left out). */
  chunks: StreamedChunk[];
  body: string;
  /** When the handler's promise settled and when the stream finished, in ms from the start of the invocation. */
  handlerSettledAtMs: number;
  streamEndedAtMs: number;
  /** performance.now() at the start of the invocation, to place other events (log lines) on the same clock. */
  startedAt: number;
  /** Why the invocation failed (the handler rejected), if it did. */
  error?: unknown;
}

export interface InvokeOptions {
  /** Destroys the stream (a broken connection) once this returns true for a body chunk. */
  disconnectWhen?: (chunk: StreamedChunk) => boolean;
  /** Destroys the stream this long after the invocation started, if it has not finished by then. */
  disconnectAfterMs?: number;
  /** How long the invocation may take (handler settled and stream finished) before the test fails. Default 10 s. */
  timeoutMs?: number;
}

function isStreamingHandler(handler: object): boolean {
  return (handler as Record<symbol, unknown>)[STREAMING_HANDLER] === "response";
}

/** Splits what was written into the prelude and the body chunks, at the first 8-NUL delimiter. */
function parse(transport: RecordingTransport): Pick<StreamedInvocation, "prelude" | "chunks" | "body"> {
  const written = Buffer.concat(transport.writes.map((w) => w.bytes));
  const integration = transport.contentType === HTTP_INTEGRATION_CONTENT_TYPE;
  const delimiterAt = integration ? written.indexOf(DELIMITER) : -1;
  // Without its delimiter, an HTTP integration response has no body yet (nor a prelude); otherwise it is all body.
  const bodyStart = !integration ? 0 : delimiterAt === -1 ? written.length : delimiterAt + DELIMITER.length;
  const prelude = delimiterAt === -1 ? undefined : (JSON.parse(written.subarray(0, delimiterAt).toString()) as StreamedInvocation["prelude"]);
  const chunks: StreamedChunk[] = [];
  let offset = 0;
  for (const { atMs, bytes } of transport.writes) {
    const from = Math.max(bodyStart - offset, 0);
    offset += bytes.length;
    if (from < bytes.length) chunks.push({ atMs, text: bytes.subarray(from).toString() });
  }
  return { prelude, chunks, body: written.subarray(bodyStart).toString() };
}

class InvocationTimedOut extends Error {}

/** Resolves with the time the stream finished or was destroyed, whichever came first. */
function streamEnd(transport: RecordingTransport, startedAt: number): Promise<number> {
  return new Promise((resolve) => {
    const ended = () => resolve(performance.now() - startedAt);
    transport.once("finish", ended);
    transport.once("close", ended);
  });
}

/**
 * Invokes a streaming handler as the runtime does, and returns what the client would have received, with timings.
 * A handler that rejects fails the invocation: its error is returned, and the stream is ended (the runtime sends the
 * error in HTTP trailers). Throws when the handler is not a streaming one or returns no promise, and when the
 * invocation does not end in time (on Lambda, it would run into its timeout).
 */
export async function invokeStreaming<TEvent>(
  handler: StreamingHandler<TEvent>,
  event: TEvent,
  context: Context,
  options: InvokeOptions = {},
): Promise<StreamedInvocation> {
  if (!isStreamingHandler(handler)) throw new Error("handler is not wrapped with awslambda.streamifyResponse");
  const startedAt = performance.now();
  const { transport, view } = createResponseStream(startedAt);
  const streamEnded = streamEnd(transport, startedAt);
  if (options.disconnectWhen) {
    const disconnectWhen = options.disconnectWhen;
    let chunksSeen = 0;
    transport.afterWrite = () => {
      const { chunks } = parse(transport);
      if (chunks.length === chunksSeen) return;
      chunksSeen = chunks.length;
      if (disconnectWhen(chunks[chunks.length - 1] as StreamedChunk)) transport.destroy();
    };
  }

  const disconnectTimer = options.disconnectAfterMs === undefined ? undefined : setTimeout(() => transport.destroy(), options.disconnectAfterMs);
  void streamEnded.then(() => clearTimeout(disconnectTimer));

  const timeoutMs = options.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new InvocationTimedOut(`the invocation did not end within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = handler(event, view, context);
    if (typeof (result as Promise<unknown> | undefined)?.then !== "function") throw new Error("Streaming does not support non-async handlers.");
    let error: unknown;
    try {
      await Promise.race([result, timedOut]);
    } catch (err) {
      if (err instanceof InvocationTimedOut) throw err;
      error = err;
      if (!transport.writableEnded && !transport.destroyed) transport.end();
    }
    const handlerSettledAtMs = performance.now() - startedAt;
    const streamEndedAtMs = await Promise.race([streamEnded, timedOut]);
    const { prelude, chunks, body } = parse(transport);
    return { contentType: transport.contentType, prelude, chunks, body, handlerSettledAtMs, streamEndedAtMs, startedAt, error };
  } finally {
    clearTimeout(timer);
  }
}
