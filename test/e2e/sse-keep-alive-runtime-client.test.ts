/**
 * Keep-alive comments (SSE_KEEPALIVE_SECONDS=1) in the deployed bundles under AWS's own runtime client (aws-lambda-ric
 * against a local Runtime API, as in lambda-runtime-client.test.ts), in front of a real MCP SDK backend whose tool
 * works in silence. The streaming bundle, behind a function URL in RESPONSE_STREAM mode (the stack's default front
 * door), writes them into its stream between events, and its invocations end, with one access-log line each, when the
 * stream does or when the client leaves during the silence, the same process serving the next invocation. The
 * buffered bundle, whose client receives the body whole, writes none.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { KEEP_ALIVE_COMMENT } from "../../functions/mcp/sse-keep-alive.js";
import { httpApiEvent, mcpPostRequest, type ClientRequest } from "../support/api-gateway-events.js";
import { BUFFERED_ENTRY, STREAMING_ENTRY } from "../support/function-bundle.js";
import { functionUrlEvent } from "../support/function-url-event.js";
import { INITIALIZE, POLICIES } from "../support/gateway.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import type { Invocation, InvokeOptions } from "../support/lambda-runtime-api.js";
import { messagesIn, sseMessages } from "../support/raw-mcp.js";
import { replyOf, startRuntimeFunction, type Reply, type RuntimeFunction } from "../support/runtime-function.js";
import { startSilentBackend, type SilentBackend } from "../support/silent-backend.js";

const HTTP_API_DOMAIN = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
const SILENT_MS = 2_500;
/** Longer than any invocation here may last: a call the client left must not run until its tool ends. */
const TOOL_OUTLASTS_MS = 8_000;

let idp: TestIdentityProvider;
let backend: SilentBackend;
let token: string;
let streaming: RuntimeFunction;
let buffered: RuntimeFunction;

beforeAll(async () => {
  [idp, backend] = await Promise.all([startIdentityProvider(), startSilentBackend()]);
  token = await idp.token({ subject: "alice", expiresIn: "1h" });
  const environment = {
    MCP_BACKEND_URL: backend.url,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWKS_URI: idp.jwksUri,
    POLICY_FILE: POLICIES.allowAll,
    POWERTOOLS_SERVICE_NAME: "mcp-sso-gateway",
    SSE_KEEPALIVE_SECONDS: "1",
  };
  [streaming, buffered] = await Promise.all([startRuntimeFunction(STREAMING_ENTRY, environment), startRuntimeFunction(BUFFERED_ENTRY, environment)]);
  await Promise.all([streaming.runtimeApi.initialized, buffered.runtimeApi.initialized]);
});

afterAll(async () => {
  await Promise.all([streaming?.close(), buffered?.close()]);
  await Promise.all([backend?.close(), idp?.close()]);
});

const mcpPost = (message: unknown, sessionId?: string): ClientRequest => mcpPostRequest(message, token, sessionId);

/** A call of the silent tool; with a progress token (one event before the silence) unless `progress` is false. */
const ponder = (id: number, silentMs: number, progress = true) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "ponder", arguments: { message: `call ${id}`, silentMs }, ...(progress ? { _meta: { progressToken: `progress-${id}` } } : {}) },
});

/** Invokes the function and waits for the invocation's access-log line: exactly one. */
async function invoke(fn: RuntimeFunction, event: unknown, options?: InvokeOptions): Promise<{ invocation: Invocation; reply: Reply }> {
  const invocation = await fn.invoke(event, options);
  await vi.waitFor(() => expect(fn.accessLog(invocation.requestId)).toHaveLength(1));
  return { invocation, reply: replyOf(invocation) };
}

async function openSession(fn: RuntimeFunction, event: (request: ClientRequest) => unknown): Promise<string> {
  const { reply } = await invoke(fn, event(mcpPost(INITIALIZE)));
  const sessionId = reply.headers["mcp-session-id"] ?? "";
  expect((await invoke(fn, event(mcpPost({ jsonrpc: "2.0", method: "notifications/initialized" }, sessionId)))).reply.status).toBe(202);
  return sessionId;
}

/** The body cut at its blank lines, each piece with its blank line. */
const eventsIn = (body: string) => body.split(/(?<=\n\n)/).filter((piece) => piece !== "");
const commentLines = (text: string) => text.split(/\r\n|\r|\n/).filter((line) => line.startsWith(":"));

describe("the streaming bundle behind a function URL", () => {
  it("streams keep-alives between the events of a silent call, and its invocation ends with the stream", async () => {
    const sessionId = await openSession(streaming, functionUrlEvent);
    const { invocation, reply } = await invoke(streaming, functionUrlEvent(mcpPost(ponder(1, SILENT_MS), sessionId)));
    expect([reply.status, reply.headers["content-type"]]).toEqual([200, "text/event-stream"]);
    const events = eventsIn(reply.body);
    const others = events.filter((event) => event !== KEEP_ALIVE_COMMENT);
    for (const event of others) expect(commentLines(event)).toEqual([]);
    expect(sseMessages(reply.body)).toMatchObject([
      { method: "notifications/progress", params: { progressToken: "progress-1" } },
      { id: 1, result: { content: [{ type: "text", text: "call 1" }] } },
    ]);
    expect(events.slice(events.indexOf(others[0]!) + 1, events.indexOf(others[1]!))).toContain(KEEP_ALIVE_COMMENT);
    expect(streaming.accessLog(invocation.requestId)).toMatchObject([{ status: 200, mcpMethod: "tools/call", tool: "ponder" }]);
    // Over with its response: the runtime asked for the next invocation before another keep-alive was due.
    expect(invocation.overAtMs - invocation.endedAtMs).toBeLessThan(1_000);
  });

  it.each([
    ["after the backend's first event", true],
    ["before the backend's first field, its stream opened with a keep-alive", false],
  ])("ends an invocation whose client leaves during the silence, %s; the same process serves the next", async (_, progress) => {
    const sessionId = await openSession(streaming, functionUrlEvent);
    const { invocation } = await invoke(streaming, functionUrlEvent(mcpPost(ponder(2, TOOL_OUTLASTS_MS, progress), sessionId)), {
      dropWhen: (chunk) => chunk.text.includes(KEEP_ALIVE_COMMENT),
    });
    expect(invocation.dropped).toBe(true);
    // What came before the client left (a dropped response has no whole body).
    const received = (invocation.streamed?.chunks ?? []).map((chunk) => chunk.text).join("");
    expect(eventsIn(received)[0]).toEqual(progress ? expect.stringContaining("notifications/progress") : KEEP_ALIVE_COMMENT);
    expect(streaming.accessLog(invocation.requestId)).toMatchObject([{ status: 200, tool: "ponder", reason: "client closed the stream" }]);
    // Over when the client left, not when the tool would have finished.
    expect(invocation.overAtMs).toBeLessThan(TOOL_OUTLASTS_MS);
    const next = await invoke(streaming, functionUrlEvent(mcpPost({ jsonrpc: "2.0", id: 3, method: "tools/list" }, sessionId)));
    expect(next.reply.status).toBe(200);
    expect(streaming.process.running()).toBe(true);
  });
});

describe("the buffered bundle behind an HTTP API", () => {
  const event = (request: ClientRequest) => httpApiEvent(request, { domainName: HTTP_API_DOMAIN, stage: "$default" });

  it("writes none into a body its client receives whole", async () => {
    const sessionId = await openSession(buffered, event);
    const { reply } = await invoke(buffered, event(mcpPost(ponder(4, SILENT_MS), sessionId)));
    expect([reply.status, reply.headers["content-type"]]).toEqual([200, "text/event-stream"]);
    expect(commentLines(reply.body)).toEqual([]);
    expect(messagesIn(reply.headers["content-type"], reply.body)).toMatchObject([
      { method: "notifications/progress" },
      { id: 4, result: { content: [{ type: "text", text: "call 4" }] } },
    ]);
  });
});
