/**
 * Server-to-client traffic through the buffered Lambda front door (functions/handler.ts behind an HTTP API, payload
 * 2.0): the client receives nothing until the function returns. Progress and logging notifications still arrive, all
 * at the end; a GET is answered 405. A server-to-client request cannot be answered there, so (documented behaviour)
 * the gateway stops reading the backend's stream at such a request, passes on the events before it, and ends the
 * response with a JSON-RPC error -32005 "Not supported on this front door: <method>" for the client's request.
 */
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { httpApiEvent, lambdaContext, type ClientRequest } from "../support/api-gateway-events.js";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { captureFunctionLogs, type FunctionLogs } from "../support/function-logs.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { INTERACTIVE_ROLE, startInteractiveBackend, writeInteractivePolicy, type InteractiveBackend } from "../support/interactive-backend.js";
import { connectInteractiveClient, expectedReceived, resultText, type InteractiveClient } from "../support/interactive-client.js";
import { bufferedLambdaFetch } from "../support/lambda-fetch.js";

const DOMAIN = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
/** How long the backend waits for the client's answer to its request before giving up on it. */
const BACKEND_WAITS_MS = 2_000;

type Handler = (typeof import("../../functions/handler.js"))["handler"];

let handler: Handler;
let idp: TestIdentityProvider;
let backend: InteractiveBackend;
let ada: string;
let logs: FunctionLogs;
let restoreEnvironment: () => void = () => undefined;
const clients: InteractiveClient[] = [];

beforeAll(async () => {
  [idp, backend] = await Promise.all([startIdentityProvider(), startInteractiveBackend()]);
  restoreEnvironment = setFunctionEnvironment({
    MCP_BACKEND_URL: backend.url,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWKS_URI: idp.jwksUri,
    POLICY_FILE: writeInteractivePolicy(),
  });
  logs = captureFunctionLogs("mcp-sso-gateway");
  ({ handler } = await import("../../functions/handler.js"));
  ada = await idp.token({ subject: "ada", claims: { roles: [INTERACTIVE_ROLE] }, expiresIn: "1h" });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  vi.restoreAllMocks();
  restoreEnvironment();
  await backend?.close();
  await idp?.close();
});

const toEvent = (request: ClientRequest): APIGatewayProxyEventV2 => httpApiEvent(request, { domainName: DOMAIN, stage: "$default" });

async function connect(): Promise<InteractiveClient> {
  const client = await connectInteractiveClient(`https://${DOMAIN}/mcp`, ada, { fetch: bufferedLambdaFetch(handler, toEvent) });
  clients.push(client);
  return client;
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
  context: Context;
  elapsedMs: number;
}

async function invoke(request: ClientRequest): Promise<Reply> {
  const context = lambdaContext();
  const started = performance.now();
  const result = await handler(toEvent(request), context);
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]));
  return { status: result.statusCode ?? 200, headers, body: result.body ?? "", context, elapsedMs: performance.now() - started };
}

/** The JSON-RPC messages of an SSE body (events without data, priming events, left out). */
function sseMessages(body: string): Record<string, unknown>[] {
  return body
    .split(/\r?\n\r?\n/)
    .map((event) => event.split(/\r?\n/).filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart()).join("\n"))
    .filter((data) => data.trim().length > 0)
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

/** A session opened by hand through the function; returns the headers of its later requests. */
async function rawSession(): Promise<Record<string, string>> {
  const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream", Authorization: `Bearer ${ada}` };
  const initialize = {
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-06-18", capabilities: { sampling: {}, elicitation: { form: {} } }, clientInfo: { name: "raw", version: "1" } },
  };
  const opened = await invoke({ method: "POST", path: "/mcp", headers, body: JSON.stringify(initialize) });
  expect(opened.status).toBe(200);
  const session = { ...headers, "Mcp-Session-Id": opened.headers["mcp-session-id"] ?? "", "Mcp-Protocol-Version": "2025-06-18" };
  const initialized = await invoke({ method: "POST", path: "/mcp", headers: session, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
  expect(initialized.status).toBe(202);
  return session;
}

const accessLogLine = (context: Context) => logs.lines.find((line) => line.function_request_id === context.awsRequestId && "status" in line);

describe("server-to-client traffic through the buffered Lambda front door", () => {
  it("delivers progress and logging notifications (all at the end, in order) with the result", async () => {
    const session = await connect();
    const from = backend.sent.length;
    const result = await session.call("progress_steps", { steps: 3, log: true, intervalMs: 30 });
    expect(resultText(result)).toBe("done after 3 steps");
    const sent = backend.sent.slice(from);
    expect(sent).toHaveLength(6);
    expect(session.received).toEqual(expectedReceived(sent));
  });

  it("delivers logging notifications at every level, in order", async () => {
    const session = await connect();
    const levels = ["debug", "info", "warning", "error"];
    expect(resultText(await session.call("log_levels", { levels }))).toBe("logged 4 messages");
    expect(session.received).toEqual(levels.map((level) => ({ kind: "log", level, data: `a ${level} message` })));
  });

  it("answers GET with 405, so the SDK client works without a standalone stream and the backend never sees a GET", async () => {
    const session = await connect();
    const headers = { Accept: "text/event-stream", Authorization: `Bearer ${ada}`, "Mcp-Session-Id": session.transport.sessionId ?? "" };
    const reply = await invoke({ method: "GET", path: "/mcp", headers });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe("POST, DELETE");
    expect(backend.requests.filter((request) => request.httpMethod === "GET")).toEqual([]);
    expect(session.errors).toEqual([]);
  });

  describe.each([
    { tool: "ask_sampling", method: "sampling/createMessage", args: { prompt: "Sample this", timeoutMs: BACKEND_WAITS_MS } },
    { tool: "ask_elicitation", method: "elicitation/create", args: { message: "Fill this in", timeoutMs: BACKEND_WAITS_MS } },
  ])("a call during which the backend sends $method", ({ tool, method, args }) => {
    it("ends at that request: the events before it, then error -32005 for the call; the gateway stops reading the backend", async () => {
      const session = await rawSession();
      const closedBefore = backend.closedEarly.length;
      const answersBefore = backend.clientResponses.length;
      const call = { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: tool, arguments: args } };
      const reply = await invoke({ method: "POST", path: "/mcp", headers: session, body: JSON.stringify(call) });

      expect(reply.status).toBe(200);
      expect(reply.headers["content-type"]).toMatch(/^text\/event-stream/);
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
      const session = await connect();
      const answersBefore = backend.clientResponses.length;
      await expect(session.call(tool, args, { timeout: 5_000 })).rejects.toMatchObject({ code: -32005, message: expect.stringContaining(`Not supported on this front door:`) });
      expect(session.asked).toEqual([]);
      expect(backend.clientResponses.length).toBe(answersBefore);
    });
  });
});
