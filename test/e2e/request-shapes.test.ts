/**
 * Request shapes an SDK client would never send: batches, disguised method names, malformed messages, wrong
 * content types, oversized bodies, wrong HTTP methods. None may carry a denied item to the backend.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRecordingBackend } from "../support/recording-backend.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { INITIALIZE, POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

let idp: TestIdentityProvider;
let backend: TestBackend;
let gateway: TestGateway;
let auth: Record<string, string>;

/** Opens a backend session through the gateway and returns headers that carry it. */
async function session(): Promise<Record<string, string>> {
  const response = await postRaw(gateway.url, INITIALIZE, auth);
  expect(response.status).toBe(200);
  await response.text();
  const headers = { ...auth, "mcp-session-id": response.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": "2025-06-18" };
  await postRaw(gateway.url, { jsonrpc: "2.0", method: "notifications/initialized" }, headers);
  return headers;
}

const call = (id: number, name: string) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: { message: "x" } } });

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startBackend({ jsonResponse: true });
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.walkthrough, MAX_BODY_BYTES: "4096" }));
  // The boss may call echo and nothing else.
  auth = { authorization: `Bearer ${await idp.token({ subject: "boss", claims: { roles: ["admin"] } })}` };
});
afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await idp?.close();
});
beforeEach(() => {
  backend.executed.length = 0;
});

describe("batches", () => {
  it("refuses a whole batch when one element is denied, answering every request in it", async () => {
    const headers = await session();
    const response = await postRaw(gateway.url, [call(1, "echo"), call(2, "delete_everything")], headers);
    expect(response.status).toBe(200);
    const body = (await response.json()) as Array<{ id: number; error: { code: number; message: string } }>;
    expect(body.map((r) => [r.id, r.error.code])).toEqual([
      [1, -32600],
      [2, -32602],
    ]);
    expect(body[1]?.error.message).toBe("Unknown tool: delete_everything");
    expect(backend.executed).toEqual([]);
  });

  it("forwards a batch whose every element is allowed", async () => {
    const headers = await session();
    const response = await postRaw(gateway.url, [call(1, "echo"), call(2, "echo")], headers);
    expect(response.status).toBe(200);
    expect(backend.executed.map((e) => e.name)).toEqual(["echo", "echo"]);
  });

  it("filters list results inside a batch response", async () => {
    const headers = await session();
    const response = await postRaw(gateway.url, [{ jsonrpc: "2.0", id: 7, method: "tools/list" }, { jsonrpc: "2.0", id: 8, method: "ping" }], headers);
    const body = (await response.json()) as Array<{ id: number; result: { tools?: Array<{ name: string }> } }>;
    expect(body.find((r) => r.id === 7)?.result.tools?.map((t) => t.name)).toEqual(["echo"]);
  });
});

describe("disguised and malformed messages", () => {
  it.each(["Tools/Call", "TOOLS/CALL", "tools/call ", "ｔｏｏｌｓ/ｃａｌｌ"])("refuses the method %j as not found", async (method) => {
    const headers = await session();
    const response = await postRaw(gateway.url, { jsonrpc: "2.0", id: 3, method, params: { name: "delete_everything" } }, headers);
    expect(await response.json()).toMatchObject({ id: 3, error: { code: -32601 } });
    expect(backend.executed).toEqual([]);
  });

  it.each([
    ["no params", { jsonrpc: "2.0", id: 4, method: "tools/call" }],
    ["a name that is not a string", { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: ["echo"] } }],
  ])("refuses tools/call with %s as invalid params", async (_, message) => {
    const headers = await session();
    const response = await postRaw(gateway.url, message, headers);
    expect(await response.json()).toMatchObject({ id: 4, error: { code: -32602 } });
    expect(backend.executed).toEqual([]);
  });

  it("judges the last of duplicate keys, as the backend's JSON parser reads them", async () => {
    const headers = await session();
    const body = '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","name":"delete_everything"}}';
    const response = await postRaw(gateway.url, body, headers);
    expect(await response.json()).toMatchObject({ id: 5, error: { code: -32602, message: "Unknown tool: delete_everything" } });
    expect(backend.executed).toEqual([]);
  });

  it("refuses a denied tools/call sent as a notification, out loud", async () => {
    const headers = await session();
    const response = await postRaw(gateway.url, { jsonrpc: "2.0", method: "tools/call", params: { name: "delete_everything" } }, headers);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ id: null, error: { code: -32602 } });
    expect(backend.executed).toEqual([]);
  });

  it.each([
    ["invalid JSON", "{not json", 400, -32700],
    ["an empty batch", "[]", 400, -32600],
    ["a message without jsonrpc 2.0", '{"id":1,"method":"tools/list"}', 400, -32600],
    ["a message with an object id", '{"jsonrpc":"2.0","id":{},"method":"ping"}', 400, -32600],
  ])("answers %s with a JSON-RPC error", async (_, body, status, code) => {
    const response = await postRaw(gateway.url, body, auth);
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ jsonrpc: "2.0", error: { code } });
    expect(gateway.logger.last()).toMatchObject({ status });
  });
});

describe("Mcp-Method and Mcp-Name headers (2026-07-28)", () => {
  it("refuses a header that names an allowed tool while the body calls a denied one: 400, -32020, nothing forwarded", async () => {
    const headers = await session();
    const forwardedBefore = backend.executed.length;
    const response = await postRaw(gateway.url, call(7, "delete_everything"), { ...headers, "mcp-method": "tools/call", "mcp-name": "echo" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32020, message: "Bad Request: the Mcp-Method or Mcp-Name header does not match the body" } });
    expect(backend.executed.length).toBe(forwardedBefore);
    expect(gateway.logger.last()).toMatchObject({ status: 400, reason: 'Mcp-Name header "echo" but the body names "delete_everything"' });
  });

  it("refuses a header naming a denied tool over an allowed body too: the headers may be what a later hop acts on", async () => {
    const headers = await session();
    const response = await postRaw(gateway.url, call(8, "echo"), { ...headers, "mcp-method": "tools/call", "mcp-name": "delete_everything" });
    expect(response.status).toBe(400);
    expect(backend.executed).toEqual([]);
  });

  it("forwards headers that agree with the body, as they were sent", async () => {
    const spy = await startRecordingBackend();
    const spyGateway = await startGateway(gatewaySettings(idp, spy.url, { POLICY_FILE: POLICIES.walkthrough }));
    try {
      const response = await postRaw(spyGateway.url, call(9, "echo"), { ...auth, "mcp-method": "tools/call", "mcp-name": "echo" });
      expect(response.status).toBe(200);
      expect(spy.received[0]?.get("mcp-method")).toBe("tools/call");
      expect(spy.received[0]?.get("mcp-name")).toBe("echo");
    } finally {
      await spyGateway.close();
      await spy.close();
    }
  });

  it("forwards Mcp-Param-* headers that mirror an argument, and refuses one that does not: 400, -32020, nothing forwarded", async () => {
    const spy = await startRecordingBackend();
    const spyGateway = await startGateway(gatewaySettings(idp, spy.url, { POLICY_FILE: POLICIES.walkthrough }));
    const echo = (id: number, message: string) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { message } } });
    try {
      const agreeing = await postRaw(spyGateway.url, echo(11, "hello"), { ...auth, "mcp-method": "tools/call", "mcp-name": "echo", "mcp-param-message": "hello" });
      expect(agreeing.status).toBe(200);
      expect(spy.received.map((headers) => headers.get("mcp-param-message"))).toEqual(["hello"]);
      const smuggling = await postRaw(spyGateway.url, echo(12, "hello"), { ...auth, "mcp-param-tenant": "someone-else" });
      expect(smuggling.status).toBe(400);
      expect(await smuggling.json()).toEqual({ jsonrpc: "2.0", id: 12, error: { code: -32020, message: "Bad Request: an Mcp-Param header does not match the body" } });
      expect(spy.received).toHaveLength(1);
      expect(spyGateway.logger.last()).toMatchObject({ status: 400, reason: `mcp-param-tenant header "someone-else" matches none of the call's arguments` });
    } finally {
      await spyGateway.close();
      await spy.close();
    }
  });

  it("authenticates first: without a token the answer is 401, whatever the headers say", async () => {
    const response = await postRaw(gateway.url, call(10, "echo"), { "mcp-method": "tools/list" });
    expect(response.status).toBe(401);
  });
});

describe("HTTP shape", () => {
  it("refuses a body that is not application/json with 415", async () => {
    const response = await postRaw(gateway.url, JSON.stringify(call(1, "echo")), { ...auth, "content-type": "text/plain" });
    expect(response.status).toBe(415);
    expect(backend.executed).toEqual([]);
  });

  // The body is judged as UTF-8; a backend told another charset could read other names out of the same bytes.
  it.each(["application/json; charset=utf-16", "application/json;charset=ISO-8859-1", 'application/json; charset="latin1"'])(
    "refuses JSON in another charset than UTF-8 (%s) with 415",
    async (contentType) => {
      const response = await postRaw(gateway.url, JSON.stringify(call(1, "echo")), { ...auth, "content-type": contentType });
      expect(response.status).toBe(415);
      expect(backend.executed).toEqual([]);
    },
  );

  it.each(["application/json; charset=utf-8", "application/json;charset=UTF-8", 'application/json; charset="utf-8"'])("accepts %s", async (contentType) => {
    const headers = await session();
    const response = await postRaw(gateway.url, JSON.stringify(call(1, "echo")), { ...headers, "content-type": contentType });
    expect(await response.json()).toMatchObject({ result: { content: [{ text: "x" }] } });
  });

  it("refuses a body over MAX_BODY_BYTES with 413", async () => {
    const big = { ...call(1, "echo"), params: { name: "echo", arguments: { message: "x".repeat(5000) } } };
    const response = await postRaw(gateway.url, big, auth);
    expect(response.status).toBe(413);
    expect(backend.executed).toEqual([]);
  });

  it.each(["PUT", "PATCH"])("answers %s with 405 and the methods it serves", async (method) => {
    const response = await fetch(gateway.url, { method, headers: auth });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST, DELETE");
  });

  it("answers unknown paths with 404", async () => {
    const response = await fetch(`${gateway.origin}/admin`, { headers: auth });
    expect(response.status).toBe(404);
  });

  it("passes notifications on and returns the backend's 202", async () => {
    const headers = await session();
    const response = await postRaw(gateway.url, { jsonrpc: "2.0", method: "notifications/roots/list_changed" }, headers);
    expect(response.status).toBe(202);
  });

  it("never passes the caller's Authorization or cookies to the backend", async () => {
    // What the backend received is checked on a backend that keeps every request's headers.
    const spy = await startRecordingBackend();
    const seen = spy.received;
    const spyGateway = await startGateway(gatewaySettings(idp, spy.url, { POLICY_FILE: POLICIES.walkthrough }));
    try {
      const response = await postRaw(spyGateway.url, { jsonrpc: "2.0", id: 1, method: "ping" }, {
        ...auth,
        cookie: "session=secret",
        "mcp-protocol-version": "2025-06-18",
      });
      expect(response.status).toBe(200);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.get("authorization")).toBeNull();
      expect(seen[0]?.get("cookie")).toBeNull();
      expect(seen[0]?.get("mcp-protocol-version")).toBe("2025-06-18");
    } finally {
      await spyGateway.close();
      await spy.close();
    }
  });
});
