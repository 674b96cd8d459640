/**
 * A `fetch` for MCP SDK clients that reaches the Lambda entry points instead of the network: each request becomes an
 * API Gateway event, and the function's result becomes the Response.
 *
 * - Buffered (functions/handler.ts): the Response is built from the returned result, so the client gets nothing
 *   until the invocation has returned, as behind an HTTP API.
 * - Streaming (functions/streaming-handler.ts): the invocation runs through the in-process stand-in for the Lambda
 *   runtime's response streaming (lambda-streaming-runtime.ts; the reference is test/e2e/lambda-runtime-client.test.ts).
 *   The Response is handed over as soon as the function writes its prelude (status and headers) and its body grows
 *   as the function writes, while the invocation still runs, as behind a REST API in STREAM mode. A client aborting
 *   the request breaks the response stream, as a broken connection does.
 */
import type { Context } from "aws-lambda";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { lambdaContext, type ClientRequest } from "./api-gateway-events.js";
import { invokeStreaming, type StreamingHandler } from "./lambda-streaming-runtime.js";

interface Prelude {
  statusCode?: number;
  headers?: Record<string, string>;
}

interface BufferedResult {
  statusCode?: number;
  headers?: Record<string, unknown>;
  body?: string;
  isBase64Encoded?: boolean;
}

async function clientRequest(input: string | URL, init?: RequestInit): Promise<{ request: Request; client: ClientRequest }> {
  const request = new Request(input, init);
  const url = new URL(request.url);
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
  const headers = Object.fromEntries(request.headers.entries());
  const query = [...url.searchParams.entries()];
  return { request, client: { method: request.method, path: url.pathname, headers, ...(query.length ? { query } : {}), ...(body ? { body } : {}) } };
}

const bodiless = (status: number) => status === 204 || status === 205 || status === 304;

/** A fetch answered by a buffered Lambda handler. `onInvoke` sees each invocation's context (for its log lines). */
export function bufferedLambdaFetch<TEvent>(
  handler: (event: TEvent, context: Context) => Promise<BufferedResult>,
  toEvent: (request: ClientRequest) => TEvent,
  onInvoke: (context: Context, request: ClientRequest) => void = () => undefined,
): FetchLike {
  return async (input, init) => {
    const { client } = await clientRequest(input, init);
    const context = lambdaContext();
    onInvoke(context, client);
    const result = await handler(toEvent(client), context);
    const raw = result.body ?? "";
    const body = result.isBase64Encoded ? Buffer.from(raw, "base64") : raw;
    const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name, String(value)]));
    const status = result.statusCode ?? 200;
    return new Response(bodiless(status) ? null : body, { status, headers });
  };
}

/** Where each invocation's prelude goes, by the response stream the function was given. */
const preludeListeners = new WeakMap<object, (prelude: Prelude) => void>();

/** Lets `awslambda.HttpResponseStream.from` (the stand-in's) report each prelude as the function writes it. */
function observePreludes(): void {
  const runtime = Reflect.get(globalThis, "awslambda") as { HttpResponseStream: { from(stream: object, prelude: Prelude): unknown; observed?: true } };
  if (runtime.HttpResponseStream.observed) return;
  const original = runtime.HttpResponseStream;
  runtime.HttpResponseStream = {
    observed: true,
    from(stream, prelude) {
      const result = original.from(stream, prelude);
      preludeListeners.get(stream)?.(prelude);
      return result;
    },
  };
}

/** A fetch answered by a streaming Lambda handler through the runtime stand-in (installed beforehand). */
export function streamingLambdaFetch<TEvent>(
  handler: StreamingHandler<TEvent>,
  toEvent: (request: ClientRequest) => TEvent,
  onInvoke: (context: Context, request: ClientRequest) => void = () => undefined,
): FetchLike {
  observePreludes();
  const { streamifyResponse } = Reflect.get(globalThis, "awslambda") as { streamifyResponse<T extends object>(handler: T): T };
  return async (input, init) => {
    const { request, client } = await clientRequest(input, init);
    const context = lambdaContext();
    onInvoke(context, client);
    const encoder = new TextEncoder();
    let body!: ReadableStreamDefaultController<Uint8Array>;
    let finished = false;
    let responseStream: { destroy(): void } | undefined;
    // The client cancelling the body (it read what it needed, or went away) breaks the connection.
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => void (body = controller),
      cancel: () => {
        finished = true;
        responseStream?.destroy();
      },
    });
    const finish = (error?: unknown) => {
      if (finished) return;
      finished = true;
      if (error === undefined) body.close();
      else body.error(error);
    };

    return new Promise<Response>((resolve, reject) => {
      const invoked = streamifyResponse(async (event: TEvent, view: awslambda.HttpResponseStream, invocation: Context) => {
        responseStream = view as unknown as { destroy(): void };
        preludeListeners.set(view, (prelude) => {
          const status = prelude.statusCode ?? 200;
          resolve(new Response(bodiless(status) ? null : stream, { status, headers: prelude.headers ?? {} }));
        });
        const abort = () => {
          reject(request.signal.reason);
          finish(request.signal.reason);
          responseStream?.destroy();
        };
        if (request.signal.aborted) abort();
        else request.signal.addEventListener("abort", abort, { once: true });
        return handler(event, view, invocation);
      });
      invokeStreaming(invoked, toEvent(client), context, {
        timeoutMs: 120_000,
        // Called with each body chunk as the function writes it: passed on, never a reason to disconnect.
        disconnectWhen: (chunk) => {
          if (!finished) body.enqueue(encoder.encode(chunk.text));
          return false;
        },
      }).then(
        (invocation) => {
          if (invocation.error !== undefined) {
            reject(invocation.error);
            finish(invocation.error);
          } else {
            reject(new Error("the function ended without writing a prelude"));
            finish();
          }
        },
        (error: unknown) => {
          reject(error);
          finish(error);
        },
      );
    });
  };
}
