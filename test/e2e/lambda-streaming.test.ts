/**
 * The real streaming entry point (functions/streaming-handler.ts), driven with REST API proxy events (payload 1.0) as
 * a REST API with `responseTransferMode: STREAM` sends them, through a stand-in for the Lambda runtime's streaming
 * contract (fast, in-process; the reference is test/e2e/lambda-runtime-client.test.ts, the deployed bundle under AWS's
 * own runtime client), in front of a backend that streams with known timing, a real identity
 * provider and the walkthrough policy.
 */
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { lambdaContext, restApiEvent, type ClientRequest } from "../support/api-gateway-events.js";
import { captureFunctionLogs, type FunctionLogs } from "../support/function-logs.js";
import { POLICIES } from "../support/gateway.js";
import { sseMessages } from "../support/raw-mcp.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import {
  HTTP_INTEGRATION_CONTENT_TYPE,
  installLambdaStreamingRuntime,
  invokeStreaming,
  type InvokeOptions,
  type StreamedInvocation,
} from "../support/lambda-streaming-runtime.js";
import { createStreamingLambdaHandler } from "../../functions/adapters/lambda-streaming.js";
import { RESULT_DELAY_MS, TICK_INTERVAL_MS, startStreamingBackend, type StreamingBackend } from "../support/streaming-backend.js";

const DOMAIN = "mcp.example.com";

type Handler = (typeof import("../../functions/streaming-handler.js"))["handler"];

let handler: Handler;
let idp: TestIdentityProvider;
let backend: StreamingBackend;
let boss: string;
let jsmith: string;
let logs: FunctionLogs;
let removeRuntime: () => void = () => undefined;
let restoreEnvironment: () => void = () => undefined;

beforeAll(async () => {
  removeRuntime = installLambdaStreamingRuntime();
  [idp, backend] = await Promise.all([startIdentityProvider(), startStreamingBackend()]);
  const env: Record<string, string | undefined> = {
    MCP_BACKEND_URL: backend.url,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWKS_URI: idp.jwksUri,
    POLICY_FILE: POLICIES.walkthrough,
  };
  restoreEnvironment = setFunctionEnvironment(env);
  logs = captureFunctionLogs("mcp-sso-gateway");
  // The module reads its configuration and warms up (JWKS, policy) when it is first imported.
  ({ handler } = await import("../../functions/streaming-handler.js"));
  jsmith = await idp.token({ subject: "jsmith", expiresIn: "1h" });
  boss = await idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] }, expiresIn: "1h" });
});

afterAll(async () => {
  vi.restoreAllMocks();
  removeRuntime();
  restoreEnvironment();
  await backend?.close();
  await idp?.close();
});

beforeEach(() => {
  backend.requests.length = 0;
  backend.executed.length = 0;
  backend.closedByClient.length = 0;
});

/** Invokes the handler with a REST API proxy event, as the given invocation; the invocation must not fail. */
async function invoke(request: ClientRequest, options: InvokeOptions & { invocation?: Context } = {}): Promise<StreamedInvocation> {
  const event = restApiEvent(request, { domainName: DOMAIN, stage: "prod" });
  const reply = await invokeStreaming(handler, event, options.invocation ?? lambdaContext(), options);
  if (reply.error !== undefined) throw reply.error;
  return reply;
}

function mcpPost(message: unknown, options: { token?: string; base64?: boolean } = {}): ClientRequest {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    Accept: "application/json, text/event-stream",
    "Mcp-Protocol-Version": "2025-06-18",
  };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  return { method: "POST", path: "/mcp", headers, body: JSON.stringify(message), base64: options.base64 };
}

function post(message: unknown, options: { token?: string; base64?: boolean } = {}): Promise<StreamedInvocation> {
  return invoke(mcpPost(message, options));
}

function openServerStream(token: string): ClientRequest {
  return { method: "GET", path: "/mcp", headers: { Accept: "text/event-stream", Authorization: `Bearer ${token}` } };
}

/** The access-log line of an invocation: the one with a status, carrying the invocation's request id. */
function accessLogLine(requestId: string): Record<string, unknown> | undefined {
  return logs.lines.find((line) => line.function_request_id === requestId && "status" in line);
}

const callEcho = (message: string, backendControls: { headersDelayMs?: number } = {}) => ({
  jsonrpc: "2.0",
  id: 2,
  method: "tools/call",
  params: { name: "echo", arguments: { message, ...backendControls }, _meta: { progressToken: "progress-1" } },
});
const toolsList = { jsonrpc: "2.0", id: 1, method: "tools/list" };

describe("the streaming Lambda handler behind a REST API (responseTransferMode: STREAM)", () => {
  it("puts status 200 and the SSE content type in the prelude, and streams the progress event well before the result", async () => {
    const reply = await post(callEcho("hi from the stream"), { token: boss });
    expect(reply.contentType).toBe(HTTP_INTEGRATION_CONTENT_TYPE);
    expect(reply.prelude).toMatchObject({ statusCode: 200, headers: { "content-type": "text/event-stream" } });

    const progress = reply.chunks.find((chunk) => chunk.text.includes("notifications/progress"));
    const result = reply.chunks.find((chunk) => chunk.text.includes('"result"'));
    expect(progress && result).toBeTruthy();
    // Streamed, not buffered: the client had the progress event while the backend was still working.
    expect((result?.atMs ?? 0) - (progress?.atMs ?? 0)).toBeGreaterThanOrEqual(RESULT_DELAY_MS - 50);
    expect(progress?.atMs ?? Infinity).toBeLessThan(reply.handlerSettledAtMs - (RESULT_DELAY_MS - 50));
    expect(sseMessages(reply.body)).toMatchObject([
      { method: "notifications/progress", params: { progressToken: "progress-1" } },
      { id: 2, result: { content: [{ type: "text", text: "hi from the stream" }] } },
    ]);
    expect(backend.executed).toEqual([{ name: "echo", arguments: { message: "hi from the stream" } }]);
  });

  it("writes the access-log line and the metrics within the invocation, once the stream has ended", async () => {
    const invocation = lambdaContext();
    const reply = await invoke(mcpPost(callEcho("logged"), { token: boss }), { invocation });
    const line = accessLogLine(invocation.awsRequestId);
    expect(line).toMatchObject({ status: 200, mcpMethod: "tools/call", tool: "echo", subject: "pointy-haired-boss", decision: "allowed" });
    const loggedAt = (logs.writtenAt(line ?? {}) ?? Infinity) - reply.startedAt;
    const lastChunkAt = reply.chunks.at(-1)?.atMs ?? Infinity;
    expect(loggedAt).toBeGreaterThanOrEqual(lastChunkAt);
    expect(loggedAt).toBeLessThanOrEqual(Math.min(reply.handlerSettledAtMs, reply.streamEndedAtMs));

    // The request's metrics are published after its stream ended, and before the invocation did.
    const emf = logs.metrics.find((metrics) => (logs.writtenAt(metrics) ?? 0) >= (logs.writtenAt(line ?? {}) ?? Infinity));
    expect(emf).toMatchObject({ Requests: 1, _aws: { CloudWatchMetrics: [{ Namespace: "McpSsoGateway" }] } });
    expect((logs.writtenAt(emf ?? {}) ?? Infinity) - reply.startedAt).toBeLessThanOrEqual(reply.handlerSettledAtMs);
  });

  it("still filters list results inside the stream: jsmith's tools/list lists nothing, the boss's lists echo", async () => {
    const forJsmith = await post(toolsList, { token: jsmith });
    expect(forJsmith.prelude).toMatchObject({ statusCode: 200, headers: { "content-type": "text/event-stream" } });
    expect(sseMessages(forJsmith.body)).toMatchObject([{ id: 1, result: { tools: [] } }]);
    const forBoss = await post(toolsList, { token: boss });
    const [list] = sseMessages(forBoss.body) as [{ result: { tools: { name: string }[] } }];
    expect(list.result.tools.map((tool) => tool.name)).toEqual(["echo"]);
  });

  it("answers a request without a token with 401: status and challenge in the prelude, a JSON-RPC error as body", async () => {
    const reply = await post(toolsList);
    expect(reply.prelude?.statusCode).toBe(401);
    expect(reply.prelude?.headers?.["www-authenticate"]).toBe(`Bearer resource_metadata="https://${DOMAIN}/.well-known/oauth-protected-resource/mcp"`);
    expect(reply.prelude?.headers?.["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(reply.body)).toMatchObject({ id: null, error: { code: -32001 } });
    expect(backend.requests).toEqual([]);
  });

  it("refuses echo to jsmith with the JSON-RPC error, and the backend is not even asked", async () => {
    const reply = await post(callEcho("not for jsmith"), { token: jsmith });
    expect(reply.prelude?.statusCode).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ jsonrpc: "2.0", id: 2, error: { code: -32602, message: "Unknown tool: echo" } });
    expect(backend.executed).toEqual([]);
    expect(backend.requests).toEqual([]);
  });

  it("decodes a base64-encoded body (isBase64Encoded: true)", async () => {
    const reply = await post(callEcho("grüße, 🚀"), { token: boss, base64: true });
    expect(sseMessages(reply.body).at(-1)).toMatchObject({ id: 2, result: { content: [{ text: "grüße, 🚀" }] } });
    expect(backend.executed).toEqual([{ name: "echo", arguments: { message: "grüße, 🚀" } }]);
  });

  it("sends status and headers for a response without body bytes (202 for a notification)", async () => {
    const reply = await post({ jsonrpc: "2.0", method: "notifications/initialized" }, { token: boss });
    expect(reply.prelude?.statusCode).toBe(202);
    expect(reply.body).toBe("");
    expect(backend.requests).toEqual(["POST notifications/initialized"]);
  });

  it("forwards GET /mcp (no 405 on this front door) and passes the server's stream on as it is produced", async () => {
    // The client reads three events, then goes away.
    const reply = await invoke(openServerStream(boss), { disconnectWhen: (chunk) => chunk.text.includes("tick 3") });
    expect(reply.prelude).toMatchObject({ statusCode: 200, headers: { "content-type": "text/event-stream" } });
    expect(backend.requests).toEqual(["GET"]);
    const ticks = reply.chunks.filter((chunk) => chunk.text.includes("tick"));
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect((ticks[2]?.atMs ?? 0) - (ticks[0]?.atMs ?? 0)).toBeGreaterThanOrEqual(2 * TICK_INTERVAL_MS - 50);
  });

  it("cancels the backend's stream when the response stream breaks, logs that the client left, and ends the invocation", async () => {
    const invocation = lambdaContext();
    const reply = await invoke(openServerStream(boss), { invocation, disconnectWhen: (chunk) => chunk.text.includes("tick 1") });
    await vi.waitFor(() => expect(backend.closedByClient).toContain("GET"), { timeout: 2_000 });
    const line = accessLogLine(invocation.awsRequestId);
    expect(line).toMatchObject({ httpMethod: "GET", status: 200, reason: "client closed the stream" });
    expect((logs.writtenAt(line ?? {}) ?? Infinity) - reply.startedAt).toBeLessThanOrEqual(reply.handlerSettledAtMs);
    // The invocation ends at once (not at its timeout), and not as a failure: the function did nothing wrong.
    expect(reply.handlerSettledAtMs - (reply.chunks.at(-1)?.atMs ?? 0)).toBeLessThan(TICK_INTERVAL_MS);
  });

  it("aborts the backend request when the response stream breaks before the backend has answered", async () => {
    const invocation = lambdaContext();
    const slowCall = mcpPost(callEcho("too slow", { headersDelayMs: 1_000 }), { token: boss });
    const reply = await invoke(slowCall, { invocation, disconnectAfterMs: 100 });
    expect(reply.prelude).toBeUndefined();
    expect(reply.handlerSettledAtMs).toBeLessThan(1_000);
    await vi.waitFor(() => expect(backend.closedByClient).toContain("POST tools/call"), { timeout: 2_000 });
    expect(accessLogLine(invocation.awsRequestId)).toMatchObject({ mcpMethod: "tools/call", reason: expect.stringContaining("client disconnected") });
  });

  it("cannot be built where the runtime's awslambda.streamifyResponse is missing, and says so", () => {
    removeRuntime();
    try {
      const gateway = { fetch: async () => new Response(), refuseUntranslatable: () => new Response(), warmUp: async () => undefined };
      expect(() => createStreamingLambdaHandler(gateway)).toThrow(/needs the Lambda Node.js runtime/);
    } finally {
      removeRuntime = installLambdaStreamingRuntime();
    }
  });
});
