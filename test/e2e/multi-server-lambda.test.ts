/**
 * Several backend servers behind the deployed bundles, under AWS's own Lambda runtime: functions/streaming-handler.ts
 * driven with function URL events and functions/handler.ts with HTTP API events, each run by the Runtime Interface
 * Client (as in lambda-runtime-client.test.ts), configured with MCP_BACKENDS naming two real MCP servers (our echo
 * backend as `docs`, a paging v1 server as `pages`), a real identity provider, and a policy that names servers
 * (`mcp.tool.target` rules and a `servers:` grant). Through the aggregated endpoint `/mcp` and a server's own
 * `/mcp/docs`: the merged handshake, prefixed and filtered lists page by page, routed calls (asserted on what each
 * backend executed), sessions that continue in the other function process when both read the same session key from
 * Secrets Manager (moto) and not with another key, and one access-log line per invocation naming the server.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { httpApiEvent, mcpPostRequest, type ClientRequest } from "../support/api-gateway-events.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { BUFFERED_ENTRY, STREAMING_ENTRY } from "../support/function-bundle.js";
import { functionUrlEvent } from "../support/function-url-event.js";
import { INITIALIZE, multiServerSettings } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import type { Invocation } from "../support/lambda-runtime-api.js";
import { startPagingBackend } from "../support/paging-backend.js";
import { messagesIn } from "../support/raw-mcp.js";
import { replyOf, startRuntimeFunction, type Reply, type RuntimeFunction } from "../support/runtime-function.js";

const POLICY = `
rules:
  - 'mcp.tool.target == "docs" && mcp.tool.name == "echo"'
  - 'mcp.tool.target == "pages" && mcp.tool.name != "t4"'
servers:
  docs:
    prompts: { summarize: ["*"] }
`;

const HTTP_API_DOMAIN = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com";
/** The region the runtime client's process runs in (lambda-runtime-client.ts): the secrets are created there. */
const FUNCTION_REGION = "eu-west-1";

let idp: TestIdentityProvider;
let docs: TestBackend;
let pages: TestBackend;
let scratch: string;
let policyFile: string;
let guest: string;
let sessionKeyA: string;
let sessionKeyB: string;
const functions: { buffered?: RuntimeFunction; streaming?: RuntimeFunction } = {};

/** A session key (at least 32 bytes) in moto's Secrets Manager, under a name of its own; returns the name. */
async function createSessionKey(label: string): Promise<string> {
  const client = new SecretsManagerClient({ region: FUNCTION_REGION });
  const name = `multi-server-lambda-${label}-${randomUUID()}`;
  await client.send(new CreateSecretCommand({ Name: name, SecretString: `${label}-${randomUUID()}-${randomUUID()}` }));
  client.destroy();
  return name;
}

function functionEnvironment(sessionKeySecretId: string): Record<string, string> {
  return multiServerSettings(idp, [{ name: "docs", url: docs.url }, { name: "pages", url: pages.url }], policyFile, {
    SESSION_KEY_SECRET_ID: sessionKeySecretId,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER as string,
    POWERTOOLS_SERVICE_NAME: "mcp-sso-gateway",
    POWERTOOLS_METRICS_NAMESPACE: "McpSsoGateway",
  });
}

beforeAll(async () => {
  expect(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER).toBeTruthy();
  [idp, docs, pages] = await Promise.all([startIdentityProvider(), startBackend(), startPagingBackend()]);
  scratch = await mkdtemp(join(tmpdir(), "multi-server-lambda-"));
  policyFile = join(scratch, "policy.yaml");
  await writeFile(policyFile, POLICY);
  [sessionKeyA, sessionKeyB, guest] = await Promise.all([createSessionKey("a"), createSessionKey("b"), idp.token({ subject: "guest", expiresIn: "1h" })]);
  [functions.buffered, functions.streaming] = await Promise.all([
    startRuntimeFunction(BUFFERED_ENTRY, functionEnvironment(sessionKeyA)),
    startRuntimeFunction(STREAMING_ENTRY, functionEnvironment(sessionKeyA)),
  ]);
  await Promise.all([functions.buffered.runtimeApi.initialized, functions.streaming.runtimeApi.initialized]);
}, 120_000);

afterAll(async () => {
  await Promise.all([functions.buffered?.close(), functions.streaming?.close()]);
  await Promise.all([docs?.close(), pages?.close(), idp?.close()]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Each bundle with the events of its front door. */
const FRONT_DOORS = {
  streaming: { name: "the streaming bundle with function URL events", event: functionUrlEvent },
  buffered: { name: "the buffered bundle with HTTP API events", event: (request: ClientRequest) => httpApiEvent(request, { domainName: HTTP_API_DOMAIN, stage: "$default" }) },
} as const;
type Bundle = keyof typeof FRONT_DOORS;
const OTHER: Record<Bundle, Bundle> = { streaming: "buffered", buffered: "streaming" };

/** A POST of one message to `path` (the aggregated endpoint by default). */
const post = (message: unknown, sessionId?: string, path = "/mcp"): ClientRequest => ({ ...mcpPostRequest(message, guest, sessionId), path });

/** Invokes the function and waits for the invocation's access-log line: exactly one. */
async function invoke(fn: RuntimeFunction, event: unknown): Promise<{ invocation: Invocation; reply: Reply; log: Record<string, unknown> }> {
  const invocation = await fn.invoke(event);
  await vi.waitFor(() => expect(fn.accessLog(invocation.requestId)).toHaveLength(1));
  // Still one a moment later: no second line for the same invocation.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const lines = fn.accessLog(invocation.requestId);
  expect(lines).toHaveLength(1);
  return { invocation, reply: replyOf(invocation), log: lines[0] as Record<string, unknown> };
}

type Message = { id?: number; result?: Record<string, unknown>; error?: { code: number; message: string } };
function onlyMessage(reply: Reply): Message {
  const messages = messagesIn(reply.headers["content-type"], reply.body);
  expect(messages, reply.body).toHaveLength(1);
  return messages[0] as Message;
}
const toolsOf = (message: Message) => (message.result?.tools as Array<{ name: string }>).map((tool) => tool.name);
const toolsList = (id: number, cursor?: string) => ({ jsonrpc: "2.0", id, method: "tools/list", ...(cursor ? { params: { cursor } } : {}) });
const call = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

describe.each(Object.entries(FRONT_DOORS) as Array<[Bundle, (typeof FRONT_DOORS)[Bundle]]>)("%s", (bundle, { event }) => {
  const fn = () => functions[bundle] as RuntimeFunction;
  const other = () => functions[OTHER[bundle]] as RuntimeFunction;
  const otherEvent = FRONT_DOORS[OTHER[bundle]].event;

  /** initialize + notifications/initialized on `path`; returns the session id. */
  async function openSession(path = "/mcp"): Promise<{ sessionId: string; result: Record<string, unknown>; log: Record<string, unknown> }> {
    const opened = await invoke(fn(), event(post(INITIALIZE, undefined, path)));
    expect(opened.reply.status, opened.reply.body).toBe(200);
    const sessionId = opened.reply.headers["mcp-session-id"] ?? "";
    expect(sessionId).toBeTruthy();
    const initialized = await invoke(fn(), event(post({ jsonrpc: "2.0", method: "notifications/initialized" }, sessionId, path)));
    expect(initialized.reply.status).toBe(202);
    return { sessionId, result: onlyMessage(opened.reply).result ?? {}, log: opened.log };
  }

  it("answers initialize on /mcp with the merged result, lists every server's tools prefixed and filtered page by page, and routes a call", async () => {
    const { sessionId, result, log } = await openSession();
    expect(result).toMatchObject({ protocolVersion: "2025-06-18", serverInfo: { name: "mcp-sso-gateway" }, capabilities: { tools: {}, prompts: {}, resources: {} } });
    expect(log).toMatchObject({ status: 200, path: "/mcp", mcpMethod: "initialize", subject: "guest" });

    // Every server's first page: docs's one (echo alone allowed) and pages's first two; pages has more.
    const first = await invoke(fn(), event(post(toolsList(1), sessionId)));
    const firstPage = onlyMessage(first.reply);
    expect(toolsOf(firstPage).sort()).toEqual(["docs_echo", "pages_t1", "pages_t2"]);
    const firstCursor = firstPage.result?.nextCursor as string;
    expect(firstCursor).toMatch(/^s1\./);
    expect(first.log).toMatchObject({ status: 200, mcpMethod: "tools/list", decision: "filtered", listItemsRemoved: 3 });

    // The next pages: only the pages server's, t4 removed by the policy.
    const second = onlyMessage((await invoke(fn(), event(post(toolsList(2, firstCursor), sessionId)))).reply);
    expect(toolsOf(second)).toEqual(["pages_t3"]);
    const third = onlyMessage((await invoke(fn(), event(post(toolsList(3, second.result?.nextCursor as string), sessionId)))).reply);
    expect(toolsOf(third)).toEqual(["pages_t5"]);
    expect(third.result?.nextCursor).toBeUndefined();

    // The servers: grant: docs's summarize prompt only (the pages server has no prompts).
    const prompts = onlyMessage((await invoke(fn(), event(post({ jsonrpc: "2.0", id: 4, method: "prompts/list" }, sessionId)))).reply);
    expect((prompts.result?.prompts as Array<{ name: string }>).map((prompt) => prompt.name)).toEqual(["docs_summarize"]);

    const before = { docs: docs.executed.length, pages: pages.executed.length };
    const called = await invoke(fn(), event(post(call(5, "docs_echo", { message: `through the ${bundle} bundle` }), sessionId)));
    expect(onlyMessage(called.reply)).toMatchObject({ id: 5, result: { content: [{ type: "text", text: `through the ${bundle} bundle` }] } });
    // Logged by the server it went to and the tool's own name there.
    expect(called.log).toMatchObject({ status: 200, path: "/mcp", mcpMethod: "tools/call", tool: "echo", server: "docs", decision: "allowed" });
    const paged = await invoke(fn(), event(post(call(6, "pages_t5", {}), sessionId)));
    expect(onlyMessage(paged.reply)).toMatchObject({ id: 6, result: { content: [{ text: "ran t5" }] } });
    expect(paged.log).toMatchObject({ tool: "t5", server: "pages" });
    expect(docs.executed.slice(before.docs)).toEqual([{ kind: "tool", name: "echo", arguments: { message: `through the ${bundle} bundle` } }]);
    expect(pages.executed.slice(before.pages)).toEqual([{ kind: "tool", name: "t5", arguments: {} }]);

    // Denied (docs's add, pages's t4) or owned by no server: refused alike, and run nowhere.
    // The line names a denied tool by its server's own name, one no server owns as the client gave it.
    const refusals = [
      { id: 7, name: "docs_add", logged: "add", reason: /not allowed/ },
      { id: 8, name: "pages_t4", logged: "t4", reason: /not allowed/ },
      { id: 9, name: "nobody_echo", logged: "nobody_echo", reason: /belongs to no server/ },
      { id: 10, name: "echo", logged: "echo", reason: /belongs to no server/ },
    ];
    for (const { id, name, logged, reason } of refusals) {
      const refused = await invoke(fn(), event(post(call(id, name, { message: "no", a: 1, b: 2 }), sessionId)));
      expect(onlyMessage(refused.reply), name).toEqual({ jsonrpc: "2.0", id, error: { code: -32602, message: `Unknown tool: ${name}` } });
      expect(refused.log, name).toMatchObject({ status: 200, path: "/mcp", mcpMethod: "tools/call", tool: logged, decision: "denied", reason: expect.stringMatching(reason) });
    }
    expect(docs.executed.length).toBe(before.docs + 1);
    expect(pages.executed.length).toBe(before.pages + 1);
  });

  it(`continues a session on /mcp in the ${OTHER[bundle]} bundle's process, which reads the same session key, and not in one with another key`, async () => {
    const { sessionId } = await openSession();
    const continued = await invoke(other(), otherEvent(post(toolsList(11), sessionId)));
    expect(continued.reply.status, continued.reply.body).toBe(200);
    expect(toolsOf(onlyMessage(continued.reply)).sort()).toEqual(["docs_echo", "pages_t1", "pages_t2"]);
    const before = docs.executed.length;
    const called = await invoke(other(), otherEvent(post(call(12, "docs_echo", { message: "elsewhere" }), sessionId)));
    expect(onlyMessage(called.reply)).toMatchObject({ id: 12, result: { content: [{ text: "elsewhere" }] } });
    // The line names the docs server's own session id (as a server's own endpoint logs it), not the sealed one.
    expect(called.log).toMatchObject({ server: "docs", sessionId: expect.any(String) });
    expect(docs.executed.slice(before)).toEqual([{ kind: "tool", name: "echo", arguments: { message: "elsewhere" } }]);

    // The same bundle and configuration, but another session key: the session is not its.
    const keyedOtherwise = await startRuntimeFunction(bundle === "streaming" ? STREAMING_ENTRY : BUFFERED_ENTRY, functionEnvironment(sessionKeyB));
    try {
      await keyedOtherwise.runtimeApi.initialized;
      const refused = await invoke(keyedOtherwise, event(post(toolsList(13), sessionId)));
      expect(refused.reply.status, refused.reply.body).toBe(404);
      expect(onlyMessage(refused.reply)).toEqual({ jsonrpc: "2.0", id: 13, error: { code: -32001, message: "Session not found" } });
      expect(refused.log).toMatchObject({ status: 404, path: "/mcp", reason: expect.stringContaining("Mcp-Session-Id was not issued to this caller") });
      expect(docs.executed.length).toBe(before + 1);
    } finally {
      await keyedOtherwise.close();
    }
  }, 60_000);

  it("serves /mcp/docs as the docs server alone, unprefixed, its session id refused on /mcp/pages", async () => {
    const { sessionId, result, log } = await openSession("/mcp/docs");
    expect(result).toMatchObject({ serverInfo: { name: "test-backend" } });
    expect(log).toMatchObject({ status: 200, path: "/mcp/docs", server: "docs" });
    const listed = await invoke(fn(), event(post(toolsList(21), sessionId, "/mcp/docs")));
    expect(toolsOf(onlyMessage(listed.reply))).toEqual(["echo"]);
    expect(listed.log).toMatchObject({ server: "docs", decision: "filtered", listItemsRemoved: 3 });

    const before = { docs: docs.executed.length, pages: pages.executed.length };
    const called = await invoke(fn(), event(post(call(22, "echo", { message: "direct" }), sessionId, "/mcp/docs")));
    expect(onlyMessage(called.reply)).toMatchObject({ id: 22, result: { content: [{ text: "direct" }] } });
    expect(called.log).toMatchObject({ path: "/mcp/docs", tool: "echo", server: "docs", decision: "allowed" });
    const prefixed = await invoke(fn(), event(post(call(23, "docs_echo", { message: "prefixed" }), sessionId, "/mcp/docs")));
    expect(onlyMessage(prefixed.reply)).toMatchObject({ id: 23, error: { code: -32602 } });
    expect(docs.executed.slice(before.docs)).toEqual([{ kind: "tool", name: "echo", arguments: { message: "direct" } }]);

    for (const [path, routed] of [["/mcp/pages", { server: "pages" }], ["/mcp", {}]] as const) {
      const elsewhere = await invoke(fn(), event(post(toolsList(24), sessionId, path)));
      expect(elsewhere.reply.status, path).toBe(404);
      expect(onlyMessage(elsewhere.reply), path).toMatchObject({ id: 24, error: { code: -32001, message: "Session not found" } });
      expect(elsewhere.log, path).toMatchObject({ status: 404, path, ...routed, reason: expect.stringContaining("Mcp-Session-Id was not issued to this caller") });
    }
    expect(pages.executed.length).toBe(before.pages);
  });

  it("writes exactly one access-log line for each invocation that carried a request", async () => {
    const fnNow = fn();
    const answered = fnNow.runtimeApi.invocations.filter((invocation) => invocation.error === undefined && !invocation.streamed?.errorTrailer);
    expect(answered.length).toBeGreaterThan(10);
    await vi.waitFor(() => expect(fnNow.accessLog().length).toBeGreaterThanOrEqual(answered.length));
    expect(fnNow.accessLog().map((line) => line.function_request_id).toSorted()).toEqual(answered.map((invocation) => invocation.requestId).toSorted());
  });
});
