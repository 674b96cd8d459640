/**
 * With the allow-all policy the gateway must be transparent: one full MCP SDK client session against the official
 * reference server (@modelcontextprotocol/server-everything, Streamable HTTP) gives the same results directly and
 * through the gateway, step by step.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { startEverything, type EverythingServer } from "../support/everything-server.js";

interface Session {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Methods of the notifications the client received that no SDK handler consumed. */
  notifications: string[];
}

async function connect(url: string, token?: string): Promise<Session> {
  const client = new Client({ name: "transparency-test", version: "1.0.0" });
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const notifications: string[] = [];
  client.fallbackNotificationHandler = async (notification) => {
    notifications.push(notification.method);
  };
  await client.connect(transport);
  return { client, transport, notifications };
}

/** A rejected step is recorded as its error (code and message), so errors are compared like results. */
async function settle(step: () => Promise<unknown>): Promise<unknown> {
  try {
    return { result: await step() };
  } catch (err) {
    const error = err as { code?: unknown; message?: unknown };
    return { error: { code: error.code, message: error.message } };
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return condition();
}

/**
 * The only normalisation: dynamic text resources (read directly, or embedded by resource-prompt) say when they were
 * generated ("created at " + `toLocaleTimeString()`), which legitimately differs between the two sessions. Session
 * ids never appear in results; JSON-RPC ids (and so progress tokens) match because both sessions send the same
 * requests in the same order.
 */
function normalizeTimestamps(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value).replace(/created at [^"\\]*/g, "created at <time>"));
}

const TEXT_TEMPLATE = "demo://resource/dynamic/text/{resourceId}";
const STATIC_DOC = "demo://resource/static/document/features.md";
const SESSION_RESOURCE = "demo://resource/session/hello.txt.gz";
const LONG_RUNNING = { name: "trigger-long-running-operation", arguments: { duration: 0.6, steps: 3 } };

/** One full session; every step's outcome, in order, keyed by what it did. */
async function runSession({ client, transport, notifications }: Session): Promise<Record<string, unknown>> {
  const steps: Record<string, unknown> = {};
  const record = async (name: string, step: () => Promise<unknown>) => {
    steps[name] = await settle(step);
  };
  steps.initialize = {
    protocolVersion: transport.protocolVersion,
    capabilities: client.getServerCapabilities(),
    serverInfo: client.getServerVersion(),
    instructions: client.getInstructions(),
  };
  await record("ping", () => client.ping());
  await record("logging/setLevel", () => client.setLoggingLevel("debug"));
  await record("tools/list", () => client.listTools());
  await record("tools/call echo", () => client.callTool({ name: "echo", arguments: { message: "héllo ✓" } }));
  await record("tools/call get-sum", () => client.callTool({ name: "get-sum", arguments: { a: 2, b: 40 } }));
  await record("tools/call get-tiny-image", () => client.callTool({ name: "get-tiny-image", arguments: {} }));
  await record("tools/call get-annotated-message", () =>
    client.callTool({ name: "get-annotated-message", arguments: { messageType: "error", includeImage: true } }),
  );
  await record("tools/call get-structured-content", () =>
    client.callTool({ name: "get-structured-content", arguments: { location: "Chicago" } }),
  );
  await record("tools/call get-resource-links", () => client.callTool({ name: "get-resource-links", arguments: { count: 3 } }));
  await record("tools/call unknown tool", () => client.callTool({ name: "no-such-tool", arguments: {} }));
  await record("tools/call invalid arguments", () => client.callTool({ name: "get-sum", arguments: { a: "two" } }));
  // Passing onprogress makes the SDK put `_meta.progressToken` (the request's id) into the request itself.
  const progress: Progress[] = [];
  await record("tools/call with progress", () =>
    client.callTool(LONG_RUNNING, undefined, { onprogress: (p) => progress.push(p), timeout: 20_000 }),
  );
  steps["notifications/progress"] = progress;
  await record("prompts/list", () => client.listPrompts());
  await record("prompts/get simple-prompt", () => client.getPrompt({ name: "simple-prompt" }));
  await record("prompts/get args-prompt", () => client.getPrompt({ name: "args-prompt", arguments: { city: "Zürich", state: "ZH" } }));
  await record("prompts/get resource-prompt", () =>
    client.getPrompt({ name: "resource-prompt", arguments: { resourceType: "Text", resourceId: "3" } }),
  );
  await record("prompts/get without required argument", () => client.getPrompt({ name: "args-prompt", arguments: {} }));
  await record("resources/list (every page)", async () => {
    const pages: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listResources(cursor === undefined ? {} : { cursor });
      pages.push(page);
      cursor = page.nextCursor;
    } while (cursor !== undefined && pages.length < 50);
    return pages;
  });
  await record("resources/templates/list", () => client.listResourceTemplates());
  await record("resources/read static", () => client.readResource({ uri: STATIC_DOC }));
  await record("resources/read template", () => client.readResource({ uri: "demo://resource/dynamic/text/7" }));
  await record("resources/read unknown", () => client.readResource({ uri: "demo://resource/nope" }));
  await record("resources/subscribe", () => client.subscribeResource({ uri: STATIC_DOC }));
  await record("resources/unsubscribe", () => client.unsubscribeResource({ uri: STATIC_DOC }));
  await record("completion/complete prompt argument", () =>
    client.complete({ ref: { type: "ref/prompt", name: "completable-prompt" }, argument: { name: "department", value: "S" } }),
  );
  await record("completion/complete with context", () =>
    client.complete({
      ref: { type: "ref/prompt", name: "completable-prompt" },
      argument: { name: "name", value: "" },
      context: { arguments: { department: "Engineering" } },
    }),
  );
  await record("completion/complete resource template", () =>
    client.complete({ ref: { type: "ref/resource", uri: TEXT_TEMPLATE }, argument: { name: "resourceId", value: "42" } }),
  );
  // A resource registered mid-session: announced on the standalone GET stream, then listed and readable.
  const data = `data:text/plain;base64,${Buffer.from("hello through the gateway").toString("base64")}`;
  await record("tools/call gzip-file-as-resource", () =>
    client.callTool({ name: "gzip-file-as-resource", arguments: { name: "hello.txt.gz", data } }),
  );
  steps["notifications/resources/list_changed arrived"] = await waitFor(() =>
    notifications.includes("notifications/resources/list_changed"),
  );
  await record("resources/read session resource", () => client.readResource({ uri: SESSION_RESOURCE }));
  return normalizeTimestamps(steps) as Record<string, unknown>;
}

let idp: TestIdentityProvider;
let everything: EverythingServer;
let gateway: TestGateway;
let token: string;
let direct: Record<string, unknown>;
let viaGateway: Record<string, unknown>;

beforeAll(async () => {
  [idp, everything] = await Promise.all([startIdentityProvider(), startEverything()]);
  gateway = await startGateway(gatewaySettings(idp, everything.directUrl, { POLICY_FILE: POLICIES.allowAll }));
  token = await idp.token({ subject: "transparency", expiresIn: "1h" });
  const directSession = await connect(everything.directUrl);
  direct = await runSession(directSession);
  await directSession.client.close();
  const gatewaySession = await connect(gateway.url, token);
  viaGateway = await runSession(gatewaySession);
  await gatewaySession.client.close();
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await everything?.stop();
  await idp?.close();
});

describe("the gateway with the allow-all policy, in front of server-everything", () => {
  it("ran a meaningful session directly: the comparison below is not between two empty results", () => {
    const tools = (direct["tools/list"] as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["echo", "get-tiny-image", LONG_RUNNING.name, "gzip-file-as-resource"]));
    expect(direct["tools/call get-tiny-image"]).toMatchObject({ result: { content: [{}, { type: "image", mimeType: "image/png" }, {}] } });
    expect(direct["notifications/progress"]).toEqual([1, 2, 3].map((progress) => ({ progress, total: 3 })));
    expect(direct["notifications/resources/list_changed arrived"]).toBe(true);
    expect(direct["resources/read template"]).toMatchObject({ result: { contents: [{ text: "Resource 7: This is a plaintext resource created at <time>" }] } });
    expect(direct["completion/complete with context"]).toMatchObject({ result: { completion: { values: ["Alice", "Bob", "Charlie"] } } });
    expect(direct["resources/read unknown"]).toMatchObject({ error: { code: expect.any(Number) } });
    expect(direct.initialize).toMatchObject({ protocolVersion: expect.any(String), capabilities: { completions: {}, logging: {} }, serverInfo: { name: "mcp-servers/everything" } });
  });

  it("went through the gateway: every request of the gateway session has an allowed access-log line", () => {
    const lines = gateway.logger.requests();
    expect(lines.filter((line) => line.mcpMethod === "tools/call").length).toBeGreaterThanOrEqual(10);
    expect(lines.every((line) => line.subject === "transparency")).toBe(true);
    expect(lines.filter((line) => line.decision !== "allowed")).toEqual([]);
  });

  it("returns the same thing at every step, directly and through the gateway, but for the tasks it does not carry", () => {
    expect(Object.keys(viaGateway)).toEqual(Object.keys(direct));
    // The one documented difference: the server offers tasks, which the gateway refuses, so it does not announce them.
    const { tasks, ...capabilities } = (direct.initialize as { capabilities: Record<string, unknown> }).capabilities;
    expect(tasks).toBeDefined();
    const expected: Record<string, unknown> = { ...direct, initialize: { ...(direct.initialize as object), capabilities } };
    for (const step of Object.keys(direct)) expect.soft(viaGateway[step], step).toEqual(expected[step]);
  });
});

describe("sessions through the gateway", () => {
  it("hands out the backend's session bound to the caller, and DELETE ends the session on the backend", async () => {
    const { client, transport } = await connect(gateway.url, token);
    // The client's id is the backend's, sealed with a MAC over the caller (see test/e2e/session-binding.test.ts).
    const [backendSessionId, mac] = (transport.sessionId ?? "").split(".");
    expect(backendSessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(mac).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const sessionId = backendSessionId as string;
    const initialize = gateway.logger.requests().filter((line) => line.mcpMethod === "initialize").at(-1);
    expect(initialize?.sessionId).toBe(sessionId);
    const auth = { authorization: `Bearer ${token}`, "mcp-session-id": transport.sessionId as string, "mcp-protocol-version": transport.protocolVersion ?? "" };
    const ping = { jsonrpc: "2.0", id: 99, method: "ping" };
    for (const [url, headers] of [[gateway.url, auth], [everything.directUrl, { "mcp-session-id": sessionId as string }]] as const) {
      const alive = await postRaw(url, ping, headers);
      expect(alive.status).toBe(200);
      expect(await alive.text()).toContain('"id":99');
    }

    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    expect(gateway.logger.requests().filter((line) => line.httpMethod === "DELETE")).toMatchObject([{ status: 200 }]);
    // The backend forgot the session: it refuses it the same way directly and through the gateway.
    for (const [url, headers] of [[gateway.url, auth], [everything.directUrl, { "mcp-session-id": sessionId as string }]] as const) {
      const afterDelete = await postRaw(url, ping, headers);
      expect(afterDelete.status).toBe(400);
      expect(await afterDelete.json()).toMatchObject({ error: { message: "Bad Request: No valid session ID provided" } });
    }
    await client.close();
  });
});
