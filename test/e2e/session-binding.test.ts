/**
 * A backend session handed to one user cannot be used by another. The gateway gives out the backend's session id
 * sealed with a MAC over the caller (issuer and subject), and answers 404 to anyone else presenting it, on POST, GET
 * and DELETE alike, before anything reaches the backend. Gateways sharing the session key (from SSM here, as Lambda
 * instances do) accept each other's session ids; no other gateway does.
 */
import { randomUUID } from "node:crypto";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, POLICIES, connectClient, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const SESSION_NOT_FOUND = { jsonrpc: "2.0", error: { code: -32001, message: "Session not found" } };
const NOT_ISSUED = /^Mcp-Session-Id was not issued to this caller/;
const KEY_PARAMETER = `/mcp-sso-gateway-test/${randomUUID()}/session-key`;

let idp: TestIdentityProvider;
let backend: TestBackend;
let upstream: CountingProxy;
const gateways: TestGateway[] = [];
let alice: string;
let bob: string;

async function gatewayWith(extra: Record<string, string> = {}): Promise<TestGateway> {
  const gateway = await startGateway(gatewaySettings(idp, upstream.url, { POLICY_FILE: POLICIES.allowAll, ...extra }));
  gateways.push(gateway);
  return gateway;
}

/** Opens a session with a raw initialize and returns the session id the client was given. */
async function openSession(gateway: TestGateway, token: string): Promise<string> {
  const response = await postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${token}` });
  expect(response.status).toBe(200);
  await response.text();
  return response.headers.get("mcp-session-id") as string;
}

const echo = (id: number, message: string) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { message } } });
const inSession = (token: string, sessionId: string) => ({
  authorization: `Bearer ${token}`,
  "mcp-session-id": sessionId,
  "mcp-protocol-version": "2025-06-18",
});

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startBackend({ jsonResponse: true });
  upstream = await startCountingProxy(backend.url);
  alice = await idp.token({ subject: "alice", claims: { roles: ["admin"] } });
  bob = await idp.token({ subject: "bob", claims: { roles: ["admin"] } });
  await new SSMClient({}).send(new PutParameterCommand({ Name: KEY_PARAMETER, Value: randomUUID() + randomUUID(), Type: "SecureString", Overwrite: true }));
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await upstream?.close();
  await backend?.close();
  await idp?.close();
});

describe("a session belongs to the caller who opened it", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await gatewayWith();
  });

  it("works for its owner through a real MCP client, and the backend sees only its own session id", async () => {
    const client = await connectClient(gateway.url, alice);
    try {
      expect(await client.callTool({ name: "echo", arguments: { message: "mine" } })).toMatchObject({ content: [{ text: "mine" }] });
      const calls = gateway.logger.requests().filter((line) => line.mcpMethod === "tools/call");
      expect(calls.at(-1)?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await client.close();
    }
  });

  it("works for its owner with a fresh token: the binding is to the person, not to one token", async () => {
    const sessionId = await openSession(gateway, alice);
    const fresh = await idp.token({ subject: "alice", claims: { roles: ["admin"] }, expiresIn: 900 });
    const response = await postRaw(gateway.url, echo(1, "again"), inSession(fresh, sessionId));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ result: { content: [{ text: "again" }] } });
  });

  it("is refused to another user on POST, GET and DELETE with 404, and none of it reaches the backend", async () => {
    const sessionId = await openSession(gateway, alice);
    const backendSessionId = sessionId.split(".")[0] as string;
    const reachedBefore = upstream.requests.length;
    const executedBefore = backend.executed.length;
    const attempts: Array<[string, () => Promise<Response>]> = [
      ["POST with alice's session id", () => postRaw(gateway.url, echo(2, "from bob"), inSession(bob, sessionId))],
      ["POST with the backend's bare session id", () => postRaw(gateway.url, echo(3, "from bob"), inSession(bob, backendSessionId))],
      ["GET (the session's server-to-client stream)", () => fetch(gateway.url, { headers: { ...inSession(bob, sessionId), accept: "text/event-stream" } })],
      ["DELETE (ending alice's session)", () => fetch(gateway.url, { method: "DELETE", headers: inSession(bob, sessionId) })],
    ];
    for (const [name, attempt] of attempts) {
      const response = await attempt();
      expect(response.status, name).toBe(404);
      expect(await response.json(), name).toMatchObject(SESSION_NOT_FOUND);
      expect(gateway.logger.last(), name).toMatchObject({ status: 404, subject: "bob", reason: expect.stringMatching(NOT_ISSUED) });
    }
    expect(upstream.requests.length).toBe(reachedBefore);
    expect(backend.executed.length).toBe(executedBefore);

    // Bob's DELETE did not end it: alice carries on.
    const response = await postRaw(gateway.url, echo(4, "still mine"), inSession(alice, sessionId));
    expect(await response.json()).toMatchObject({ result: { content: [{ text: "still mine" }] } });
  });

  it("is refused when its id was altered, even to the id of a session of the caller's own", async () => {
    const [aliceBackendId, aliceMac] = (await openSession(gateway, alice)).split(".") as [string, string];
    const [bobBackendId] = (await openSession(gateway, bob)).split(".") as [string];
    const reachedBefore = upstream.requests.length;
    for (const altered of [`${bobBackendId}.${aliceMac}`, `${aliceBackendId}.${aliceMac.slice(0, -1)}${aliceMac.endsWith("A") ? "B" : "A"}`, `${aliceBackendId}.`]) {
      const response = await postRaw(gateway.url, echo(5, "x"), inSession(alice, altered));
      expect(response.status, altered).toBe(404);
    }
    expect(upstream.requests.length).toBe(reachedBefore);
  });
});

describe("the session key", () => {
  it("is shared by gateways reading it from SSM: a session opened on one continues on another, and on no other", async () => {
    const first = await gatewayWith({ SESSION_KEY_SSM_PARAMETER: KEY_PARAMETER });
    const second = await gatewayWith({ SESSION_KEY_SSM_PARAMETER: KEY_PARAMETER });
    const stranger = await gatewayWith();
    const sessionId = await openSession(first, alice);
    const onSecond = await postRaw(second.url, echo(6, "elsewhere"), inSession(alice, sessionId));
    expect(await onSecond.json()).toMatchObject({ result: { content: [{ text: "elsewhere" }] } });
    const onStranger = await postRaw(stranger.url, echo(7, "elsewhere"), inSession(alice, sessionId));
    expect(onStranger.status).toBe(404);
  });

  it("refuses to serve (503, Retry-After) when it cannot be read, before the backend opens a session", async () => {
    const gateway = await gatewayWith({ SESSION_KEY_SSM_PARAMETER: `${KEY_PARAMETER}-missing` });
    const reachedBefore = upstream.requests.length;
    const response = await postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${alice}` });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(await response.json()).toMatchObject({ id: 0, error: { code: -32002, message: "Service unavailable: sessions cannot be checked right now" } });
    expect(upstream.requests.length).toBe(reachedBefore);
    expect(gateway.logger.lines.some((line) => line.message === "session key could not be read")).toBe(true);
  });

  it("must be at least 32 bytes: a shorter one is refused the same way, and the log says why", async () => {
    const shortKey = `${KEY_PARAMETER}-short`;
    await new SSMClient({}).send(new PutParameterCommand({ Name: shortKey, Value: "too-short", Type: "SecureString", Overwrite: true }));
    const gateway = await gatewayWith({ SESSION_KEY_SSM_PARAMETER: shortKey });
    const response = await postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${alice}` });
    expect(response.status).toBe(503);
    expect(gateway.logger.lines.find((line) => line.message === "session key could not be read")?.fields.error).toBe(
      "the session key must be at least 32 bytes, got 9",
    );
  });
});
