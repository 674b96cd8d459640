/**
 * The AWS Lambda adapter for response streaming: a REST API integration with `responseTransferMode: STREAM` (payload
 * 1.0 events), or a function URL in RESPONSE_STREAM mode (payload 2.0). The request is read exactly as the buffered
 * adapter reads it; the response is streamed instead of buffered: status and headers first (the prelude of the HTTP
 * integration format, through `awslambda.HttpResponseStream.from`), then the body as the gateway produces it, so SSE
 * events reach the client as the backend sends them, for as long as the integration allows (15 minutes). The
 * invocation lasts until the body has ended, so the access-log line (written when a stream ends) is written within it.
 *
 * The handler is wrapped in `awslambda.streamifyResponse` when it is built, so it can only be built where the Lambda
 * runtime provides that global. Middlewares run through middy in its ordinary mode. middy's own streaming mode is not
 * used because it pipes the body with Node's `pipeline`, which never settles when the runtime's response stream (a
 * plain object, not a stream instance) closes early: the invocation would hang until its timeout, and the backend's
 * stream with it. Here a stream that closes or fails early cancels the body and aborts the request instead.
 *
 * A stream breaks when the runtime's connection to the Runtime API does. AWS's runtime client (aws-lambda-ric 4.0.2)
 * then also rejects a promise of its own that nothing awaits (the response headers of that connection), and an
 * unhandled rejection ends a Node.js process: the sandbox would die, and the next request pay a cold start, for a
 * failure this handler has already dealt with. So that one rejection, recognised by the very error the stream
 * reported, is logged instead; every other unhandled rejection still ends the process as before. (A runtime that
 * exits on any unhandled rejection by a listener of its own, as aws-lambda-ric 3.x does, still exits.)
 */
import type { Writable } from "node:stream";
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context, StreamifyHandler } from "aws-lambda";
import type { Gateway } from "../core/gateway.js";
import type { GatewayLogger } from "../logging.js";
import { answerEvent, headersFromResponse, type ApiGatewayEvent } from "./lambda.js";

/** The handler as the runtime calls it. `use` adds a middleware, whose `after` runs before the body is streamed. */
export type StreamingLambdaHandler = StreamifyHandler<ApiGatewayEvent, void> & {
  use(middleware: MiddlewareObj<ApiGatewayEvent, unknown, Error, Context>): StreamingLambdaHandler;
};

export interface StreamingHandlerOptions {
  /** Runs when the response has ended (sent in full, or its stream broke), still within the invocation. */
  onResponseEnd?: () => unknown;
  /** Where a broken response connection the runtime left unhandled is reported. */
  logger?: GatewayLogger;
}

const BROKEN = Symbol("the response stream closed early");
const closedEarly = () => new Error("the response stream closed early");

interface StreamWatch {
  /** Resolves if the stream closes or fails before `complete()` was called. */
  broken: Promise<typeof BROKEN>;
  /** From now on the stream is expected to close. */
  complete(): void;
}

/** The errors response streams failed with: the runtime's rejections that carry one of them are expected. */
const responseStreamErrors = new WeakSet<object>();

function watchResponseStream(stream: Writable): StreamWatch {
  let complete = false;
  const broken = new Promise<typeof BROKEN>((resolve) => {
    const ended = () => {
      if (!complete) resolve(BROKEN);
    };
    stream.once("close", ended);
    stream.on("error", (error: unknown) => {
      if (typeof error === "object" && error !== null) responseStreamErrors.add(error);
      ended();
    });
  });
  return { broken, complete: () => (complete = true) };
}

let survivingBrokenConnections = false;

/**
 * Logs, rather than dies of, the runtime's unhandled rejections with a response stream's own error (see the header).
 * Any other rejection is left to the other listeners, if something else (a runtime) has one; with none, it is thrown
 * as an uncaught exception, which is what Node.js does with an unhandled rejection when nobody listens.
 */
function surviveBrokenResponseConnections(logger: GatewayLogger | undefined): void {
  if (survivingBrokenConnections) return;
  survivingBrokenConnections = true;
  process.on("unhandledRejection", (reason) => {
    if (typeof reason === "object" && reason !== null && responseStreamErrors.has(reason)) {
      logger?.warn("response stream connection lost: the runtime left its failure unhandled; the process carries on", {
        error: String(reason),
      });
      return;
    }
    if (process.listenerCount("unhandledRejection") === 1) throw reason;
  });
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.once("drain", () => resolve()));
}

/** Ends the stream; settles even if it breaks meanwhile (a destroyed stream never calls back from `end`). */
function endStream(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("close", () => resolve());
    stream.end(() => resolve());
  });
}

/**
 * Writes the body into the response stream as it is produced, and ends the stream; false if the stream broke first,
 * in which case the body is cancelled (the gateway then logs that the client left, and stops reading the backend).
 * The first write is empty because the runtime writes the prelude just before the stream's first write: a response
 * without body bytes (202, 204) would otherwise never send its status and headers.
 */
async function sendBody(body: ReadableStream<Uint8Array> | null, stream: Writable, watch: StreamWatch): Promise<boolean> {
  stream.write(new Uint8Array(0));
  const reader = body?.getReader();
  const cancel = async (reader: ReadableStreamDefaultReader<Uint8Array>) => {
    await reader.cancel(closedEarly());
    return false;
  };
  while (reader) {
    const next = await Promise.race([reader.read(), watch.broken]);
    if (next === BROKEN) return cancel(reader);
    if (next.done) break;
    if (!stream.write(next.value) && (await Promise.race([drained(stream), watch.broken])) === BROKEN) return cancel(reader);
  }
  watch.complete();
  await endStream(stream);
  return true;
}

/** Builds the streaming Lambda handler around a gateway core. Needs the Lambda runtime's `awslambda` global. */
export function createStreamingLambdaHandler(gateway: Gateway, options: StreamingHandlerOptions = {}): StreamingLambdaHandler {
  // Checked by name: off Lambda, `awslambda` may well exist without it (AWS's lambda-invoke-store creates the global).
  if (typeof (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda?.streamifyResponse !== "function") {
    throw new Error("response streaming needs the Lambda Node.js runtime (awslambda.streamifyResponse); elsewhere use functions/handler.ts");
  }
  surviveBrokenResponseConnections(options.logger);
  // middy hands the handler the invocation's own context object, so it carries the invocation's disconnect signal.
  const clientGoneSignals = new WeakMap<Context, AbortSignal>();
  const answer = middy<ApiGatewayEvent, Response, Error, Context>().handler((event, context) =>
    answerEvent(gateway, event, clientGoneSignals.get(context)),
  );

  const handler = awslambda.streamifyResponse<ApiGatewayEvent, void>(async (event, responseStream, context) => {
    const clientGone = new AbortController();
    clientGoneSignals.set(context, clientGone.signal);
    const watch = watchResponseStream(responseStream);
    let answered = false;
    // Until the gateway has answered, a client that is gone ends the request at once (the backend call is aborted).
    void watch.broken.then(() => answered || clientGone.abort(closedEarly()));
    try {
      const response = await answer(event, context);
      answered = true;
      const prelude = { statusCode: response.status, headers: headersFromResponse(response) };
      const delivered = responseStream.destroyed
        ? (await response.body?.cancel(closedEarly()), false)
        : await sendBody(response.body, awslambda.HttpResponseStream.from(responseStream, prelude), watch);
      // Aborted only after the body was cancelled, so the access log records the client leaving rather than
      // however the aborted backend stream happens to end.
      if (!delivered) clientGone.abort(closedEarly());
    } finally {
      watch.complete();
      await options.onResponseEnd?.();
    }
  });
  const use: StreamingLambdaHandler["use"] = (middleware) => {
    answer.use(middleware);
    return streamingHandler;
  };
  const streamingHandler: StreamingLambdaHandler = Object.assign(handler, { use });
  return streamingHandler;
}
