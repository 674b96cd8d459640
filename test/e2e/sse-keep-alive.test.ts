/**
 * Keep-alive comments on the event streams the gateway writes (SSE_KEEPALIVE_SECONDS), through the local server: a
 * real MCP SDK backend whose tool works in silence, real v1 and v2 SDK clients, a real identity provider, and a relay
 * that cuts a response whose origin stays silent, as CloudFront does after its origin response timeout. Intervals are
 * short (1 s) so the tests are quick; they assert what arrives, and before what, never how long anything took.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEEP_ALIVE_COMMENT } from "../../functions/mcp/sse-keep-alive.js";
import { POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { startIdleCuttingProxy, type IdleCuttingProxy } from "../support/idle-cutting-proxy.js";
import { connectMatrixClient, type ClientGeneration } from "../support/matrix-clients.js";
import { openRawSession, sseEventsIn, sseMessages, toolCall, type RawSession } from "../support/raw-mcp.js";
import { startSilentBackend, type SilentBackend } from "../support/silent-backend.js";

const VERSION = "2025-06-18";
/** SSE_KEEPALIVE_SECONDS of the gateway that keeps streams alive. */
const KEEP_ALIVE_MS = 1_000;
/** Longer than the relay lets a response stay silent, which is longer than the keep-alive interval. */
const SILENT_MS = 4_000;
const RELAY_IDLE_MS = 2_500;

let idp: TestIdentityProvider;
let backend: SilentBackend;
/** SSE_KEEPALIVE_SECONDS=1 (KEEP_ALIVE_MS). */
let keptAlive: TestGateway;
/** SSE_KEEPALIVE_SECONDS=0. */
let unkept: TestGateway;
let relayToKeptAlive: IdleCuttingProxy;
let relayToUnkept: IdleCuttingProxy;
let token: string;

beforeAll(async () => {
  [idp, backend] = await Promise.all([startIdentityProvider(), startSilentBackend()]);
  const settings = (seconds: string) => gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.allowAll, SSE_KEEPALIVE_SECONDS: seconds });
  [keptAlive, unkept] = await Promise.all([startGateway(settings(String(KEEP_ALIVE_MS / 1000))), startGateway(settings("0"))]);
  [relayToKeptAlive, relayToUnkept] = await Promise.all([
    startIdleCuttingProxy(keptAlive.url, RELAY_IDLE_MS),
    startIdleCuttingProxy(unkept.url, RELAY_IDLE_MS),
  ]);
  token = await idp.token({ subject: "alice", expiresIn: "1h" });
});

afterAll(async () => {
  await Promise.all([relayToKeptAlive?.close(), relayToUnkept?.close()]);
  await Promise.all([keptAlive?.close(), unkept?.close()]);
  await backend?.close();
  await idp?.close();
});

/** The access-log lines of one MCP method (or of GET requests). */
const linesOf = (gateway: TestGateway, method: string) =>
  gateway.logger.requests().filter((line) => (method === "GET" ? line.httpMethod === "GET" : line.mcpMethod === method));

describe("a tool that works in silence longer than the front door allows", () => {
  for (const generation of ["v1", "v2"] as const satisfies readonly ClientGeneration[]) {
    it(`answers a ${generation} SDK client when the gateway keeps the stream alive`, async () => {
      const client = await connectMatrixClient(generation, relayToKeptAlive.url, VERSION, token);
      try {
        const settled = await client.callTool("ponder", { message: `pondered for ${generation}`, silentMs: SILENT_MS });
        expect(settled).toEqual({ result: { content: [{ type: "text", text: `pondered for ${generation}` }] } });
        const call = client.exchanges.find((exchange) => exchange.method === "POST" && (exchange.requestBody as { method?: string })?.method === "tools/call");
        expect(call?.responseHeaders["content-type"]).toBe("text/event-stream");
      } finally {
        await client.close();
      }
    });

    it(`is cut for a ${generation} SDK client without keep-alives (the relay does cut silent responses)`, async () => {
      const cutsBefore = relayToUnkept.cuts;
      const client = await connectMatrixClient(generation, relayToUnkept.url, VERSION, token);
      try {
        const settled = await client.callTool("ponder", { message: "never seen", silentMs: SILENT_MS });
        expect(settled).toHaveProperty("error");
        expect(relayToUnkept.cuts).toBeGreaterThan(cutsBefore);
      } finally {
        await client.close();
      }
    });
  }
});

/** A tools/call of `ponder` by hand, read whole; with a progress token when `progress`. */
async function rawCall(gateway: TestGateway, session: RawSession, id: number, progress: boolean): Promise<{ response: Response; body: string }> {
  const call = toolCall(id, "ponder", { message: `call ${id}`, silentMs: 2_500 });
  if (!progress) delete (call.params as { _meta?: unknown })._meta;
  const response = await postRaw(gateway.url, call, session.headers);
  return { response, body: await response.text() };
}

/** The body cut at its blank lines, each piece with its blank line, as a client's SSE reader cuts it. */
const eventsIn = (body: string) => body.split(/(?<=\n\n)/).filter((piece) => piece !== "");
const isComment = (line: string) => line.startsWith(":");

describe("the raw event stream of a call", () => {
  it("carries keep-alive comments as events of their own, between the backend's events and nowhere inside one", async () => {
    const session = await openRawSession(keptAlive.url, token, VERSION);
    const { response, body } = await rawCall(keptAlive, session, 1, true);
    expect([response.status, response.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    const events = eventsIn(body);
    const keepAlives = events.filter((event) => event === KEEP_ALIVE_COMMENT);
    const others = events.filter((event) => event !== KEEP_ALIVE_COMMENT);
    // Nothing else has a comment line: no keep-alive went inside an event.
    for (const event of others) expect(event.split("\n").filter(isComment)).toEqual([]);
    expect(others.map((event) => JSON.parse(sseEventsIn(event)[0]!.data))).toEqual([
      { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "progress-1", progress: 1, total: 2 } },
      { jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text: "call 1" }] } },
    ]);
    // At least one came in the silence between the progress notification and the result.
    const progressAt = events.indexOf(others[0]!);
    const resultAt = events.indexOf(others[1]!);
    expect(keepAlives.length).toBeGreaterThan(0);
    expect(events.slice(progressAt + 1, resultAt)).toContain(KEEP_ALIVE_COMMENT);
    expect(linesOf(keptAlive, "tools/call").at(-1)).toMatchObject({ status: 200, decision: "allowed" });
    expect(linesOf(keptAlive, "tools/call").at(-1)).not.toHaveProperty("reason");
  });

  it("opens with a keep-alive once the backend has been silent an interval, and the answer follows as an event of its own", async () => {
    const session = await openRawSession(keptAlive.url, token, VERSION);
    const sentAt = performance.now();
    const response = await postRaw(keptAlive.url, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "ponder", arguments: { message: "call 2", silentMs: 2_500 } } }, session.headers);
    expect([response.status, response.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    const reader = response.body!.getReader();
    const first = await reader.read();
    // With its status, not an interval later: a front door that cuts at twice the interval would not cut it.
    expect(performance.now() - sentAt).toBeLessThan(2 * KEEP_ALIVE_MS);
    let body = new TextDecoder().decode(first.value);
    for (let next = await reader.read(); !next.done; next = await reader.read()) body += new TextDecoder().decode(next.value);
    const events = eventsIn(body);
    expect(events[0]).toBe(KEEP_ALIVE_COMMENT);
    expect(events.filter((event) => event !== KEEP_ALIVE_COMMENT).map((event) => JSON.parse(sseEventsIn(event)[0]!.data))).toEqual([
      { jsonrpc: "2.0", id: 2, result: { content: [{ type: "text", text: "call 2" }] } },
    ]);
  });

  it("has none with SSE_KEEPALIVE_SECONDS=0", async () => {
    const session = await openRawSession(unkept.url, token, VERSION);
    for (const progress of [true, false]) {
      const { response, body } = await rawCall(unkept, session, progress ? 3 : 4, progress);
      expect(response.status).toBe(200);
      expect(body.split(/\r\n|\r|\n/).filter(isComment)).toEqual([]);
      expect(JSON.parse(sseEventsIn(body).at(-1)!.data)).toMatchObject({ id: progress ? 3 : 4, result: {} });
    }
  });
});

describe("the server-to-client GET stream", () => {
  it("gets a keep-alive while the backend is silent, and ends with one log line when the client leaves", async () => {
    const session = await openRawSession(keptAlive.url, token, VERSION);
    const response = await fetch(keptAlive.url, { headers: { accept: "text/event-stream", ...session.headers } });
    expect([response.status, response.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe(KEEP_ALIVE_COMMENT);
    const getLines = () => linesOf(keptAlive, "GET").filter((line) => line.sessionId !== undefined);
    const before = getLines().length;
    await reader.cancel();
    await expect.poll(() => getLines().length).toBe(before + 1);
    expect(getLines().at(-1)).toMatchObject({ status: 200, reason: "client closed the stream" });
  });
});

describe("a POST answered before its backend's first field", () => {
  let slowOpener: Server;
  let gateway: TestGateway;
  const LIST = { jsonrpc: "2.0", id: 7, method: "tools/list" };

  beforeAll(async () => {
    // Labels its answer an event stream at once, then, after longer than the keep-alive interval, sends JSON.
    slowOpener = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.flushHeaders();
        setTimeout(() => res.end(JSON.stringify({ jsonrpc: "2.0", id: 7, result: { tools: [{ name: "delete_everything", inputSchema: { type: "object" } }] } })), 2_000);
      });
    });
    await new Promise<void>((resolve) => slowOpener.listen(0, "127.0.0.1", resolve));
    const { port } = slowOpener.address() as AddressInfo;
    gateway = await startGateway(gatewaySettings(idp, `http://127.0.0.1:${port}/mcp`, { POLICY_FILE: POLICIES.walkthrough, SSE_KEEPALIVE_SECONDS: "1" }));
  });

  afterAll(async () => {
    await gateway?.close();
    slowOpener?.closeAllConnections();
    await new Promise((resolve) => slowOpener?.close(resolve));
  });

  it("ends with an error event, and none of the backend's bytes, when that field proves to be no SSE", async () => {
    const response = await postRaw(gateway.url, LIST, { authorization: `Bearer ${token}` });
    const body = await response.text();
    expect([response.status, response.headers.get("content-type")]).toEqual([200, "text/event-stream"]);
    expect(body.startsWith(KEEP_ALIVE_COMMENT)).toBe(true);
    expect(body).not.toContain("delete_everything");
    expect(sseMessages(body)).toEqual([
      { jsonrpc: "2.0", id: 7, error: { code: -32003, message: "Bad gateway: the MCP server's answer is not an event stream" } },
    ]);
    await expect.poll(() => linesOf(gateway, "tools/list").length).toBe(1);
    expect(linesOf(gateway, "tools/list")[0]).toMatchObject({ status: 200, reason: expect.stringContaining("first line is not an SSE field") });
  });
});
