/**
 * Tasks (protocol 2025-11-25) against the reference server, server-everything, which offers them: it advertises
 * `capabilities.tasks` and has a tool that runs only as a task (`simulate-research-query`).
 *
 * The gateway does not carry tasks (a task id outlives the request that created it and is bound to neither the
 * caller nor the tool): through it, the initialize result has no `capabilities.tasks`, `tasks/*` requests are
 * refused as unknown methods (-32601) and a task-augmented `tools/call` as invalid params (-32602), none of them
 * reaching the server; the same tool called normally still goes through. Each refusal is first shown to be something
 * the server would have done directly, so the test proves the gateway stopped it, not the server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEverything, type EverythingServer } from "../support/everything-server.js";
import { MCP_HEADERS, POLICIES, gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { messagesIn } from "../support/raw-mcp.js";

const VERSION = "2025-11-25";
const TASK_TOOL = { name: "simulate-research-query", arguments: { topic: "gateway tasks" } };
const PLAIN_TOOL = { name: "get-sum", arguments: { a: 2, b: 40 } };
const TASK = { ttl: 60_000 };

type Message = { jsonrpc: "2.0"; id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } };

interface Session {
  url: string;
  headers: Record<string, string>;
  initialize: Message;
}

let idp: TestIdentityProvider;
let everything: EverythingServer;
let gateway: TestGateway;
let token: string;

/** The JSON-RPC messages of a response: a JSON body, or the data of each SSE event. */
async function messagesOf(response: Response): Promise<Message[]> {
  return messagesIn(response.headers.get("content-type"), await response.text()) as Message[];
}

async function post(url: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; messages: Message[] }> {
  const response = await fetch(url, { method: "POST", headers: { ...MCP_HEADERS, ...headers }, body: JSON.stringify(body) });
  return { status: response.status, messages: response.status === 202 ? [] : await messagesOf(response) };
}

/** initialize (as a client that supports tasks) + notifications/initialized; `auth` for the gateway. */
async function openSession(url: string, auth: Record<string, string> = {}): Promise<Session> {
  const capabilities = { elicitation: { form: {} }, tasks: { list: {}, cancel: {}, requests: { elicitation: { create: {} } } } };
  const initialize = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: VERSION, capabilities, clientInfo: { name: "tasks-test", version: "1" } } };
  const response = await fetch(url, { method: "POST", headers: { ...MCP_HEADERS, ...auth }, body: JSON.stringify(initialize) });
  expect(response.status, "initialize").toBe(200);
  const sessionId = response.headers.get("mcp-session-id") ?? "";
  const [result] = await messagesOf(response);
  const headers = { ...auth, "mcp-session-id": sessionId, "mcp-protocol-version": VERSION };
  expect((await post(url, { jsonrpc: "2.0", method: "notifications/initialized" }, headers)).status).toBe(202);
  return { url, headers, initialize: result as Message };
}

function call(session: Session, id: number, method: string, params?: Record<string, unknown>) {
  return post(session.url, { jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) }, session.headers);
}

/** The methods the server received since the last reset (requests and notifications alike). */
const receivedMethods = () => everything.received.map((message) => message.method);

beforeAll(async () => {
  [idp, everything] = await Promise.all([startIdentityProvider(), startEverything()]);
  // Everything allowed: what is refused here is refused because it is a task, not by the policy.
  gateway = await startGateway(gatewaySettings(idp, everything.url, { POLICY_FILE: POLICIES.allowAll }));
  token = await idp.token({ subject: "tasker", expiresIn: "1h" });
});
afterAll(async () => {
  await gateway?.close();
  await Promise.all([everything?.stop(), idp?.close()]);
});

describe("directly, server-everything offers tasks", () => {
  let direct: Session;
  beforeAll(async () => {
    direct = await openSession(everything.directUrl);
  });

  it("advertises capabilities.tasks in its initialize result", () => {
    expect(direct.initialize.result).toMatchObject({ protocolVersion: VERSION, capabilities: { tasks: { list: {}, requests: { tools: { call: {} } } } } });
  });

  it("creates a task for a task-augmented tools/call, lists it and answers tasks/get", async () => {
    const created = await call(direct, 1, "tools/call", { ...TASK_TOOL, task: TASK });
    const taskId = (created.messages[0]?.result?.task as { taskId?: string } | undefined)?.taskId;
    expect(taskId, JSON.stringify(created.messages)).toEqual(expect.any(String));
    const listed = await call(direct, 2, "tasks/list");
    expect(listed.messages[0]?.result?.tasks).toEqual(expect.arrayContaining([expect.objectContaining({ taskId })]));
    expect((await call(direct, 3, "tasks/get", { taskId })).messages[0]?.result).toMatchObject({ taskId });
  });
});

describe("through the gateway, tasks are not carried", () => {
  let via: Session;
  beforeAll(async () => {
    via = await openSession(gateway.url, { authorization: `Bearer ${token}` });
  });
  beforeEach(() => {
    everything.received.length = 0;
    everything.executed.length = 0;
  });

  it("hides capabilities.tasks in the initialize result, and keeps the rest of the capabilities", async () => {
    const direct = await openSession(everything.directUrl);
    const { tasks: _tasks, ...others } = (direct.initialize.result as { capabilities: Record<string, unknown> }).capabilities;
    expect(via.initialize.result?.protocolVersion).toBe(VERSION);
    expect(via.initialize.result?.capabilities).not.toHaveProperty("tasks");
    expect(via.initialize.result?.capabilities).toEqual(others);
  });

  it.each(["tasks/list", "tasks/get", "tasks/result", "tasks/cancel"])("refuses %s with -32601, and the server never sees it", async (method) => {
    const params = method === "tasks/list" ? undefined : { taskId: "0123456789abcdef0123456789abcdef" };
    const reply = await call(via, 10, method, params);
    expect(reply.status).toBe(200);
    expect(reply.messages).toEqual([{ jsonrpc: "2.0", id: 10, error: { code: -32601, message: `Method not found: ${method}` } }]);
    expect(receivedMethods()).toEqual([]);
    expect(gateway.logger.last()).toMatchObject({ mcpMethod: method, decision: "denied", status: 200 });
  });

  it.each([TASK_TOOL, PLAIN_TOOL])("refuses a task-augmented tools/call of $name with -32602, and the server never sees it", async (tool) => {
    const reply = await call(via, 11, "tools/call", { ...tool, task: TASK });
    expect(reply.status).toBe(200);
    expect(reply.messages).toEqual([
      { jsonrpc: "2.0", id: 11, error: { code: -32602, message: expect.stringContaining("task-augmented requests are not supported") } },
    ]);
    expect(receivedMethods()).toEqual([]);
    expect(everything.executed).toEqual([]);
    expect(gateway.logger.last()).toMatchObject({ mcpMethod: "tools/call", decision: "denied", reason: expect.stringContaining("tasks are not carried") });
  });

  it("still carries a normal call of the same tool, answered as directly, and the server ran it", async () => {
    const direct = await openSession(everything.directUrl);
    const expected = await call(direct, 12, "tools/call", PLAIN_TOOL);
    expect(expected.messages[0]?.result, JSON.stringify(expected.messages)).toMatchObject({ content: [{ type: "text" }] });
    everything.received.length = 0;
    const reply = await call(via, 12, "tools/call", PLAIN_TOOL);
    expect(reply.messages.at(-1)).toEqual(expected.messages.at(-1));
    expect(everything.executed).toEqual([{ kind: "tool", name: PLAIN_TOOL.name, arguments: PLAIN_TOOL.arguments }]);
    expect(receivedMethods()).toEqual(["tools/call"]);
    expect(gateway.logger.last()).toMatchObject({ tool: PLAIN_TOOL.name, decision: "allowed", status: 200 });
  });

  it("carries a normal call of the task-only tool too: the server itself answers that it needs a task", async () => {
    const reply = await call(via, 13, "tools/call", TASK_TOOL);
    expect(reply.messages.at(-1)?.result).toMatchObject({ isError: true, content: [{ text: expect.stringContaining("requires task augmentation") }] });
    expect(receivedMethods()).toEqual(["tools/call"]);
  });
});
