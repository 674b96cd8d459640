/**
 * Server-to-client traffic through the buffered Lambda front door (functions/handler.ts behind an HTTP API, payload
 * 2.0): the client receives nothing until the function returns. Progress and logging notifications still arrive, all
 * at the end (the scenarios of every front door, server-to-client-scenarios.ts); a GET is answered 405. A
 * server-to-client request cannot be answered there, so (documented behaviour) the gateway stops reading the backend's
 * stream at such a request, passes on the events before it, and ends the response with a JSON-RPC error -32005
 * "Not supported on this front door: <method>" for the client's request.
 */
import type { Context } from "aws-lambda";
import { describe, expect, it, vi } from "vitest";
import { httpApiEvent, lambdaContext, type ClientRequest } from "../support/api-gateway-events.js";
import { MCP_HEADERS } from "../support/gateway.js";
import { bufferedLambdaFetch } from "../support/lambda-fetch.js";
import { openRawSession, sseMessages } from "../support/raw-mcp.js";
import { loadLambdaFunction, useFrontDoor } from "../support/server-to-client-front-doors.js";
import { itCarriesServerToClientTraffic } from "../support/server-to-client-scenarios.js";

const DOMAIN = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
/** How long the backend waits for the client's answer to its request before giving up on it. */
const BACKEND_WAITS_MS = 2_000;

const toEvent = (request: ClientRequest) => httpApiEvent(request, { domainName: DOMAIN, stage: "$default" });

const stage = useFrontDoor(async (idp, backend, policyFile) => {
  const lambda = await loadLambdaFunction(idp, backend, policyFile, () => import("../../functions/handler.js"));
  return { ...lambda.frontDoor(`https://${DOMAIN}/mcp`, bufferedLambdaFetch(lambda.module.handler, toEvent, lambda.onInvoke)), lambda };
});

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  context: Context;
  elapsedMs: number;
}

/** One invocation of the function by hand, timed. */
async function invoke(request: ClientRequest): Promise<Reply> {
  const context = lambdaContext();
  const started = performance.now();
  const result = await stage.door.lambda.module.handler(toEvent(request), context);
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
  return { status: result.statusCode ?? 200, headers, body: result.body ?? "", context, elapsedMs: performance.now() - started };
}

const accessLogLine = (context: Context) => stage.door.lambda.logs.lines.find((line) => line.function_request_id === context.awsRequestId && "status" in line);

describe("server-to-client traffic through the buffered Lambda front door", () => {
  itCarriesServerToClientTraffic(stage, { roundTrips: false, standaloneStream: false });

  it("answers GET with 405, so the SDK client works without a standalone stream and the backend never sees a GET", async () => {
    const session = await stage.connect();
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${stage.ada}`, "Mcp-Session-Id": session.transport.sessionId ?? "" };
    const reply = await invoke({ method: "GET", path: "/mcp", headers });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe("POST, DELETE");
    expect(stage.backend.requests.filter((request) => request.httpMethod === "GET")).toEqual([]);
    expect(session.errors).toEqual([]);
  });

  describe.each([
    { tool: "ask_sampling", method: "sampling/createMessage", args: { prompt: "Sample this", timeoutMs: BACKEND_WAITS_MS } },
    { tool: "ask_elicitation", method: "elicitation/create", args: { message: "Fill this in", timeoutMs: BACKEND_WAITS_MS } },
  ])("a call during which the backend sends $method", ({ tool, method, args }) => {
    it("ends at that request: the events before it, then error -32005 for the call; the gateway stops reading the backend", async () => {
      const { backend } = stage;
      const session = await openRawSession(stage.door.url, stage.ada, "2025-06-18", stage.door.fetch);
      const closedBefore = backend.closedEarly.length;
      const answersBefore = backend.clientResponses.length;
      const call = { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: tool, arguments: args } };
      const reply = await invoke({ method: "POST", path: "/mcp", headers: { ...MCP_HEADERS, ...session.headers }, body: JSON.stringify(call) });

      expect(reply.status).toBe(200);
      expect(reply.headers["content-type"]).toMatch(/^text\/event-stream/);
      // The JSON-RPC messages of the body (events without data, priming events, left out).
      const messages = sseMessages(reply.body);
      // The backend's log message came before its request: passed on. The request itself is not (nobody could answer it).
      expect(messages).toEqual([
        { jsonrpc: "2.0", method: "notifications/message", params: expect.objectContaining({ level: "info" }) },
        { jsonrpc: "2.0", id: 3, error: { code: -32005, message: expect.stringMatching(new RegExp(`^Not supported on this front door:.*${method}`)) } },
      ]);
      expect(messages.some((message) => message.method === method)).toBe(false);
      // The function returned at the request, not when the backend gave up waiting for an answer.
      expect(reply.elapsedMs).toBeLessThan(BACKEND_WAITS_MS);
      expect(accessLogLine(reply.context)).toMatchObject({ status: 200, mcpMethod: "tools/call", tool, reason: expect.stringContaining(method) });
      // The backend did run the tool and ask, and the gateway let go of its stream; no answer ever reached it.
      expect(backend.executed.at(-1)).toEqual({ name: tool, arguments: args });
      expect(backend.sent.at(-1)).toMatchObject({ tool, method, stream: "call" });
      await vi.waitFor(() => expect(backend.closedEarly.slice(closedBefore)).toEqual(["POST tools/call"]), { timeout: 1_000 });
      expect(backend.clientResponses.length).toBe(answersBefore);
    });

    it("makes the SDK client's call fail with -32005, without its handler ever being asked", async () => {
      const session = await stage.connect();
      const answersBefore = stage.backend.clientResponses.length;
      await expect(session.call(tool, args, { timeout: 5_000 })).rejects.toMatchObject({ code: -32005, message: expect.stringContaining(`Not supported on this front door:`) });
      expect(session.asked).toEqual([]);
      expect(stage.backend.clientResponses.length).toBe(answersBefore);
    });
  });
});
