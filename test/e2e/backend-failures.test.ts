/** A backend that is down, slow or answering garbage gives a defined status, a JSON-RPC error and a log line. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { freePort } from "../support/ports.js";

let idp: TestIdentityProvider;
let auth: Record<string, string>;
const servers: Server[] = [];
const gateways: TestGateway[] = [];

/** A raw HTTP backend whose behaviour the test chooses. */
async function rawBackend(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

async function closedPortUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}/mcp`;
}

async function gatewayFor(backendUrl: string, extra: Record<string, string> = {}): Promise<TestGateway> {
  const gateway = await startGateway(gatewaySettings(idp, backendUrl, { POLICY_FILE: POLICIES.allowAll, ...extra }));
  gateways.push(gateway);
  return gateway;
}

const ping = { jsonrpc: "2.0", id: 42, method: "ping" };

beforeAll(async () => {
  idp = await startIdentityProvider();
  auth = { authorization: `Bearer ${await idp.token()}` };
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await idp?.close();
});

describe("backend failures", () => {
  it("answers 502 with a JSON-RPC error for the request's id when the backend is down", async () => {
    const gateway = await gatewayFor(await closedPortUrl());
    const response = await postRaw(gateway.url, ping, auth);
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ jsonrpc: "2.0", id: 42, error: { code: -32003, message: "Bad gateway: the MCP server could not be reached" } });
    expect(gateway.logger.last()).toMatchObject({ status: 502, reason: expect.stringMatching(/^backend unreachable: ECONNREFUSED/) });
  });

  it("answers 504 when the backend sends no response within BACKEND_TIMEOUT_MS", async () => {
    const url = await rawBackend(() => {
      // Never answers.
    });
    const gateway = await gatewayFor(url, { BACKEND_TIMEOUT_MS: "300" });
    const started = Date.now();
    const response = await postRaw(gateway.url, ping, auth);
    expect(response.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await response.json()).toMatchObject({ id: 42, error: { code: -32004 } });
    expect(gateway.logger.last()).toMatchObject({ status: 504, reason: "backend did not answer within 300 ms" });
  });

  it("answers 504 when a JSON body stalls after the headers", async () => {
    const url = await rawBackend((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"jsonrpc":"2.0",');
    });
    const gateway = await gatewayFor(url, { BACKEND_TIMEOUT_MS: "300" });
    const response = await postRaw(gateway.url, ping, auth);
    expect(response.status).toBe(504);
  });

  it("answers 502 when the backend claims JSON but sends garbage (it could be a list the gateway cannot filter)", async () => {
    const url = await rawBackend((_, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"result":{"tools":[{"name":"secret"}');
    });
    const gateway = await gatewayFor(url);
    const response = await postRaw(gateway.url, ping, auth);
    expect(response.status).toBe(502);
    expect(gateway.logger.last()).toMatchObject({ status: 502, reason: "backend answered with a application/json body that is not JSON" });
  });

  it("passes the backend's own HTTP errors through (a 404 for a session the backend has ended)", async () => {
    const sessionIdsReceived: Array<string | undefined> = [];
    const url = await rawBackend((req, res) => {
      sessionIdsReceived.push(req.headers["mcp-session-id"] as string | undefined);
      if (sessionIdsReceived.length === 1) {
        res.writeHead(200, { "content-type": "application/json", "mcp-session-id": "backend-session-1" });
        res.end('{"jsonrpc":"2.0","id":42,"result":{}}');
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found (ended by the backend)"}}');
    });
    const gateway = await gatewayFor(url);
    const opened = await postRaw(gateway.url, ping, auth);
    const sessionId = opened.headers.get("mcp-session-id") as string;
    const response = await postRaw(gateway.url, ping, { ...auth, "mcp-session-id": sessionId });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { message: "Session not found (ended by the backend)" } });
    expect(sessionIdsReceived).toEqual([undefined, "backend-session-1"]);
  });

  it("ends a backend stream that breaks mid-way with a JSON-RPC error for the pending request, and logs it", async () => {
    const url = await rawBackend((_, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}\n\n');
      setTimeout(() => res.destroy(), 50);
    });
    const gateway = await gatewayFor(url);
    const response = await postRaw(gateway.url, ping, auth);
    expect(response.status).toBe(200);
    const events = (await response.text()).split("\n\n").filter((e) => e.length > 0);
    expect(events).toHaveLength(2);
    expect(events[0]).toContain("notifications/progress");
    expect(JSON.parse(events[1]?.split("data: ")[1] ?? "")).toEqual({
      jsonrpc: "2.0",
      id: 42,
      error: { code: -32003, message: "Bad gateway: the MCP server's stream broke off before it answered" },
    });
    await expect.poll(() => gateway.logger.last().reason).toMatch(/^backend stream failed/);
  });
});
