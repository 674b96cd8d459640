/**
 * The deployed bundles under AWS's own Lambda runtime: functions/handler.ts (buffered) and
 * functions/streaming-handler.ts (response streaming), each built as the stack builds it and run by AWS's Node.js
 * Runtime Interface Client (aws-lambda-ric) on Node 22, against a local Lambda Runtime API, in front of a real MCP
 * SDK backend and a real identity provider, under the walkthrough policy. This is the reference for the streaming
 * adapter: its stream is the runtime's own, and what it sends is read where Lambda reads it, at the Runtime API.
 * Each function runs in one process for the whole file, as a warm Lambda sandbox serves invocation after invocation.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SERVICE_NAME } from "../../functions/adapters/logger.js";
import { FUNCTION_DIMENSION, METRICS_NAMESPACE } from "../../functions/metrics.js";
import { httpApiEvent, mcpPostRequest, restApiEvent, type ClientRequest } from "../support/api-gateway-events.js";
import { BUFFERED_ENTRY, STREAMING_ENTRY } from "../support/function-bundle.js";
import { functionUrlEvent } from "../support/function-url-event.js";
import { INITIALIZE, POLICIES } from "../support/gateway.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { HTTP_INTEGRATION_CONTENT_TYPE, type Invocation, type InvokeOptions } from "../support/lambda-runtime-api.js";
import { SERVER_NAME, startProgressBackend, type ProgressBackend } from "../support/progress-backend.js";
import { messagesIn, sseMessages } from "../support/raw-mcp.js";
import { replyOf, startRuntimeFunction, type Reply, type RuntimeFunction } from "../support/runtime-function.js";

const HTTP_API_DOMAIN = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
const CUSTOM_DOMAIN = "mcp.example.com";
const STEP_MS = 300;

const EVENT_KINDS = [
  { kind: "HTTP API events (payload 2.0)", event: (request: ClientRequest) => httpApiEvent(request, { domainName: HTTP_API_DOMAIN, stage: "$default" }) },
  { kind: "REST API proxy events (payload 1.0)", event: (request: ClientRequest) => restApiEvent(request, { domainName: CUSTOM_DOMAIN, stage: "prod" }) },
  { kind: "function URL events", event: functionUrlEvent },
];

let idp: TestIdentityProvider;
let backend: ProgressBackend;
let boss: string;
let jsmith: string;
const functions: { buffered?: RuntimeFunction; streaming?: RuntimeFunction } = {};

function functionEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  return {
    MCP_BACKEND_URL: backend.url,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWKS_URI: idp.jwksUri,
    POLICY_FILE: POLICIES.walkthrough,
    POWERTOOLS_SERVICE_NAME: "mcp-sso-gateway",
    POWERTOOLS_METRICS_NAMESPACE: "McpSsoGateway",
    ...extra,
  };
}

beforeAll(async () => {
  [idp, backend] = await Promise.all([startIdentityProvider(), startProgressBackend()]);
  [boss, jsmith] = await Promise.all([
    idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] }, expiresIn: "1h" }),
    idp.token({ subject: "jsmith", expiresIn: "1h" }),
  ]);
  [functions.buffered, functions.streaming] = await Promise.all([
    startRuntimeFunction(BUFFERED_ENTRY, functionEnvironment()),
    startRuntimeFunction(STREAMING_ENTRY, functionEnvironment()),
  ]);
  await Promise.all([functions.buffered.runtimeApi.initialized, functions.streaming.runtimeApi.initialized]);
});

afterAll(async () => {
  await Promise.all([functions.buffered?.close(), functions.streaming?.close()]);
  await Promise.all([backend?.close(), idp?.close()]);
});

const mcpPost = mcpPostRequest;

const echo = (id: number, message: string, progress?: { steps: number; stepMs: number }) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "echo", arguments: { message, ...progress }, ...(progress ? { _meta: { progressToken: `progress-${id}` } } : {}) },
});

/** Invokes the function and waits for the invocation's access-log line: exactly one. */
async function invoke(fn: RuntimeFunction, event: unknown, options?: InvokeOptions): Promise<{ invocation: Invocation; reply: Reply }> {
  const invocation = await fn.invoke(event, options);
  await vi.waitFor(() => expect(fn.accessLog(invocation.requestId)).toHaveLength(1));
  return { invocation, reply: replyOf(invocation) };
}

const messages = (reply: Reply) => messagesIn(reply.headers["content-type"], reply.body);
const toolNames = (reply: Reply) => (messages(reply)[0] as { result: { tools: { name: string }[] } }).result.tools.map((tool) => tool.name);

describe.each([
  { name: "the buffered bundle (functions/handler.ts)", bundle: "buffered" as const },
  { name: "the streaming bundle (functions/streaming-handler.ts)", bundle: "streaming" as const },
])("$name under the runtime client", ({ bundle }) => {
  const fn = () => functions[bundle] as RuntimeFunction;

  describe.each(EVENT_KINDS)("with $kind", ({ event }) => {
    /** initialize + notifications/initialized, as an MCP client opens a session; returns the session id. */
    async function openSession(token: string): Promise<string> {
      const { reply } = await invoke(fn(), event(mcpPost(INITIALIZE, token)));
      expect(reply.status).toBe(200);
      expect(messages(reply)).toMatchObject([{ id: 0, result: { serverInfo: { name: SERVER_NAME } } }]);
      const sessionId = reply.headers["mcp-session-id"] ?? "";
      const initialized = await invoke(fn(), event(mcpPost({ jsonrpc: "2.0", method: "notifications/initialized" }, token, sessionId)));
      expect(initialized.reply.status).toBe(202);
      return sessionId;
    }

    it("answers initialize, lists only the tools a caller may use, and judges calls", async () => {
      const bossSession = await openSession(boss);
      const jsmithSession = await openSession(jsmith);
      const toolsList = { jsonrpc: "2.0", id: 1, method: "tools/list" };

      const forBoss = await invoke(fn(), event(mcpPost(toolsList, boss, bossSession)));
      expect(toolNames(forBoss.reply)).toEqual(["echo"]);
      const forJsmith = await invoke(fn(), event(mcpPost(toolsList, jsmith, jsmithSession)));
      expect(toolNames(forJsmith.reply)).toEqual([]);
      expect(fn().accessLog(forBoss.invocation.requestId)).toMatchObject([{ decision: "filtered", listItemsRemoved: 1 }]);

      backend.executed.length = 0;
      const called = await invoke(fn(), event(mcpPost(echo(2, "hi from the runtime"), boss, bossSession)));
      expect(messages(called.reply)).toMatchObject([{ id: 2, result: { content: [{ type: "text", text: "hi from the runtime" }] } }]);
      const refused = await invoke(fn(), event(mcpPost(echo(3, "not for jsmith"), jsmith, jsmithSession)));
      expect(messages(refused.reply)).toEqual([{ jsonrpc: "2.0", id: 3, error: { code: -32602, message: "Unknown tool: echo" } }]);
      expect(backend.executed).toEqual([{ name: "echo", arguments: { message: "hi from the runtime" } }]);
      expect(fn().accessLog(refused.invocation.requestId)).toMatchObject([{ status: 200, tool: "echo", subject: "jsmith", decision: "denied" }]);
    });
  });
});

describe("the metrics the stack's alarms watch", () => {
  it.each(["buffered", "streaming"] as const)("the %s bundle writes each metric under the service and its own function's name (lib/alarms.ts's dimensions)", async (bundle) => {
    const fn = functions[bundle] as RuntimeFunction;
    await invoke(fn, functionUrlEvent(mcpPost(INITIALIZE, boss)));
    const metricLines = fn.logLines().filter((line) => "_aws" in line) as Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } }>;
    expect(metricLines.length).toBeGreaterThan(0);
    for (const line of metricLines) {
      expect(line._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [expect.arrayContaining(["service", FUNCTION_DIMENSION])] });
      expect(line).toMatchObject({ service: SERVICE_NAME, [FUNCTION_DIMENSION]: "mcp-sso-gateway" });
    }
  });
});

describe("the streaming bundle's SSE events, as the Runtime API receives them", () => {
  it.each(EVENT_KINDS)("arrive as produced with $kind: the progress notification well before the result", async ({ event }) => {
    const fn = functions.streaming as RuntimeFunction;
    const { reply: opened } = await invoke(fn, event(mcpPost(INITIALIZE, boss)));
    const sessionId = opened.headers["mcp-session-id"] ?? "";
    const { invocation, reply } = await invoke(fn, event(mcpPost(echo(4, "slowly", { steps: 1, stepMs: STEP_MS }), boss, sessionId)));
    expect(invocation.streamed?.contentType).toBe(HTTP_INTEGRATION_CONTENT_TYPE);
    expect(reply).toMatchObject({ status: 200, headers: { "content-type": "text/event-stream" } });
    const chunks = invocation.streamed?.chunks ?? [];
    const progress = chunks.find((chunk) => chunk.text.includes("notifications/progress"));
    const result = chunks.find((chunk) => chunk.text.includes('"result"'));
    expect((result?.atMs ?? 0) - (progress?.atMs ?? Infinity)).toBeGreaterThanOrEqual(STEP_MS - 50);
    expect(sseMessages(reply.body)).toMatchObject([
      { method: "notifications/progress", params: { progressToken: "progress-4", progress: 1 } },
      { id: 4, result: { content: [{ text: "slowly" }] } },
    ]);
  });
});

describe("a client that leaves the streaming bundle's response mid-stream", () => {
  it("is logged as having left, ends the invocation at once, and the same process serves the next one", async () => {
    const fn = functions.streaming as RuntimeFunction;
    const event = (request: ClientRequest) => restApiEvent(request, { domainName: CUSTOM_DOMAIN, stage: "prod" });
    const { reply: opened } = await invoke(fn, event(mcpPost(INITIALIZE, boss)));
    const sessionId = opened.headers["mcp-session-id"] ?? "";
    const slowCall = echo(5, "never finished", { steps: 10, stepMs: 100 });
    const { invocation } = await invoke(fn, event(mcpPost(slowCall, boss, sessionId)), {
      dropWhen: (chunk) => chunk.text.includes("notifications/progress"),
    });
    expect(invocation.dropped).toBe(true);
    expect(fn.accessLog(invocation.requestId)).toMatchObject([{ status: 200, tool: "echo", reason: "client closed the stream" }]);
    // Over when the client left, not when the tool would have finished (a second later) or at the deadline.
    expect(invocation.overAtMs - invocation.endedAtMs).toBeLessThan(500);
    expect(fn.logLines()).toContainEqual(
      expect.objectContaining({ level: "WARN", message: expect.stringMatching(/^response stream connection lost/), function_request_id: invocation.requestId }),
    );

    const next = await invoke(fn, event(mcpPost({ jsonrpc: "2.0", id: 6, method: "tools/list" }, boss, sessionId)));
    expect(toolNames(next.reply)).toEqual(["echo"]);
    // The same process, still warm: Powertools marks the first invocation of a process as its cold start.
    expect(fn.accessLog(next.invocation.requestId)).toMatchObject([{ cold_start: false }]);
    expect(fn.process.running()).toBe(true);
  });
});

describe("an unhandled rejection of the function's own under the runtime client", () => {
  it("still ends the process: only the runtime's broken-connection rejections are survived", async () => {
    const entry = fileURLToPath(new URL("../support/unrelated-rejection-entry.ts", import.meta.url));
    const failure = "a rejection nobody handles";
    const fn = await startRuntimeFunction(entry, { FAILURE_MESSAGE: failure });
    try {
      await fn.runtimeApi.initialized;
      // The invocation may be answered before the process ends, or not: either way, the process ends.
      await fn.invoke(restApiEvent(mcpPost(INITIALIZE, boss), { domainName: CUSTOM_DOMAIN, stage: "prod" })).catch(() => undefined);
      const stillRunning = new Promise((resolve) => setTimeout(() => resolve("still running"), 3_000));
      expect(await Promise.race([fn.process.exited, stillRunning])).toMatchObject({ code: 1 });
      expect(fn.process.lines.map((line) => line.text).join("\n")).toContain(failure);
    } finally {
      await fn.close();
    }
  });
});

describe.each([
  { name: "the buffered bundle", entry: BUFFERED_ENTRY },
  { name: "the streaming bundle", entry: STREAMING_ENTRY },
])("$name with a bad configuration variable", ({ entry }) => {
  it("fails its init through /init/error, naming the variable, and exits without asking for an invocation", async () => {
    const fn = await startRuntimeFunction(entry, functionEnvironment({ BACKEND_TIMEOUT_MS: "soon" }));
    try {
      const initError = await fn.runtimeApi.initError;
      expect(initError.errorTypeHeader).toBe("ConfigError");
      expect(initError.body).toMatchObject({ errorType: "ConfigError", errorMessage: expect.stringContaining("BACKEND_TIMEOUT_MS must be a whole number") });
      expect((await fn.process.exited).code).not.toBe(0);
      expect(fn.runtimeApi.requests).toEqual(["POST /init/error"]);
      // The runtime's own log line names the error's class as the bundle has it: the real name, kept through minifying.
      expect(fn.logLines()).toContainEqual(
        expect.objectContaining({ level: "ERROR", message: expect.objectContaining({ errorType: "ConfigError", errorMessage: initError.body.errorMessage }) }),
      );
    } finally {
      await fn.close();
    }
  });
});

describe("an event that is no HTTP request (JSON null) under the runtime client", () => {
  it("fails the buffered bundle's invocation through /error, and the process serves the next one", async () => {
    const fn = functions.buffered as RuntimeFunction;
    const failed = await fn.invoke(null);
    // The runtime client's native client posts the error type in the body only (no Lambda-Runtime-Function-Error-Type).
    expect(failed.error).toMatchObject({ body: { errorType: "TypeError", errorMessage: expect.any(String) } });
    const next = await invoke(fn, restApiEvent(mcpPost(INITIALIZE, boss), { domainName: CUSTOM_DOMAIN, stage: "prod" }));
    expect(next.reply.status).toBe(200);
  });

  it("fails the streaming bundle's invocation with the error trailers, and the process serves the next one", async () => {
    const fn = functions.streaming as RuntimeFunction;
    const failed = await fn.invoke(null);
    expect(failed.streamed).toMatchObject({ prelude: undefined, body: "", errorTrailer: { errorType: "TypeError" } });
    expect(failed.streamed?.declaredTrailers).toEqual(["lambda-runtime-function-error-type", "lambda-runtime-function-error-body"]);
    expect(JSON.parse(failed.streamed?.errorTrailer?.body ?? "{}")).toMatchObject({ errorType: "TypeError", errorMessage: expect.any(String) });
    const next = await invoke(fn, restApiEvent(mcpPost(INITIALIZE, boss), { domainName: CUSTOM_DOMAIN, stage: "prod" }));
    expect(next.reply.status).toBe(200);
  });
});

describe("the access log under the runtime client", () => {
  it("has exactly one line for each request an invocation carried, in both processes", async () => {
    for (const fn of [functions.buffered, functions.streaming] as RuntimeFunction[]) {
      const unauthenticated = restApiEvent({ ...mcpPost(INITIALIZE, boss), headers: { "Content-Type": "application/json" } }, { domainName: CUSTOM_DOMAIN, stage: "prod" });
      expect(replyOf(await fn.invoke(unauthenticated)).status).toBe(401);
      await invoke(fn, functionUrlEvent(mcpPost(INITIALIZE, jsmith)));
      // Every invocation of the file so far, but those that carried no request at all.
      const carriedRequests = fn.runtimeApi.invocations.filter((invocation) => invocation.error === undefined && !invocation.streamed?.errorTrailer);
      await vi.waitFor(() => expect(fn.accessLog().length).toBeGreaterThanOrEqual(carriedRequests.length));
      expect(fn.accessLog().map((line) => line.function_request_id).toSorted()).toEqual(carriedRequests.map((invocation) => invocation.requestId).toSorted());
    }
  });
});
