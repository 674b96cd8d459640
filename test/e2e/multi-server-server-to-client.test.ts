/**
 * Server-to-client traffic through the aggregated endpoint: two interactive backends (interactive-backend.ts) as
 * `alpha` and `beta` behind one gateway, a real v1-SDK client that answers sampling, elicitation and roots. Progress
 * and logging reach the client; each server's requests reach it under `<server>:<id>`, and its answers go back to the
 * server that asked, under that server's own id, and to no other; the merged GET stream carries either server's
 * notifications. Then a gateway with a server that is down and one that is slow at its lists: they cost only their
 * own items, lists name them, the access log names them, and the other servers work.
 */
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startDelayingProxy, type DelayingProxy } from "../support/delaying-proxy.js";
import { MCP_HEADERS, multiServerSettings, startGateway, writeTempPolicy, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { INTERACTIVE_ROLE, INTERACTIVE_TOOLS, LATE_TOOLS, startInteractiveBackend, type InteractiveBackend } from "../support/interactive-backend.js";
import { ELICITED, ROOTS, SAMPLING_MODEL, connectInteractiveClient, expectedReceived, resultText, type InteractiveClient } from "../support/interactive-client.js";
import { freePort } from "../support/ports.js";
import { sseEventsIn } from "../support/raw-mcp.js";

const POLICY = `tools:\n${[...INTERACTIVE_TOOLS, LATE_TOOLS.granted, "echo"].map((tool) => `  ${tool}: [${INTERACTIVE_ROLE}]\n`).join("")}`;
const UNAVAILABLE = "mcp-sso-gateway/unavailable";

let idp: TestIdentityProvider;
let alpha: InteractiveBackend;
let beta: InteractiveBackend;
let gateway: TestGateway;
let ada: string;
let policyFile: string;
const clients: InteractiveClient[] = [];

/** The JSON-RPC messages that crossed the wire between the client and the gateway, each way. */
interface Wire {
  toGateway: Array<Record<string, unknown>>;
  fromGateway: Array<Record<string, unknown>>;
}

function recordingFetch(wire: Wire): FetchLike {
  return async (url, init) => {
    if (typeof init?.body === "string") wire.toGateway.push(JSON.parse(init.body) as Record<string, unknown>);
    const response = await fetch(url, init);
    const type = response.headers.get("content-type") ?? "";
    // The POST answers end with their call; the GET stream is read by the client alone.
    if (init?.method === "POST" && response.body) {
      void response.clone().text().then(
        (text) => {
          const data = type.includes("event-stream") ? sseEventsIn(text).map((event) => event.data).filter((d) => d !== "") : [text];
          for (const item of data) if (item.trim() !== "") wire.fromGateway.push(JSON.parse(item) as Record<string, unknown>);
        },
        () => undefined,
      );
    }
    return response;
  };
}

async function connect(url = gateway.url): Promise<InteractiveClient & { wire: Wire }> {
  const wire: Wire = { toGateway: [], fromGateway: [] };
  const client = await connectInteractiveClient(url, ada, { fetch: recordingFetch(wire) });
  clients.push(client);
  return Object.assign(client, { wire });
}

function settings(backends: ReadonlyArray<{ name: string; url: string } & Record<string, unknown>>): Record<string, string> {
  return multiServerSettings(idp, backends, policyFile);
}

beforeAll(async () => {
  [idp, alpha, beta] = await Promise.all([startIdentityProvider(), startInteractiveBackend(), startInteractiveBackend()]);
  policyFile = await writeTempPolicy(POLICY, "multi-server-s2c-");
  gateway = await startGateway(settings([{ name: "alpha", url: alpha.url }, { name: "beta", url: beta.url }]));
  ada = await idp.token({ subject: "ada", claims: { roles: [INTERACTIVE_ROLE] }, expiresIn: "1h" });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([alpha?.close(), beta?.close()]);
  await idp?.close();
});

describe("resumable streams through the aggregated endpoint", () => {
  it("resumes a call whose stream the server closed mid-way: Last-Event-ID names the server, which alone is asked to replay, under its own id", async () => {
    const session = await connect();
    const before = { alpha: alpha.requests.length, beta: beta.requests.length, executed: beta.executed.length };
    const result = await session.call("beta_progress_steps", { steps: 6, intervalMs: 50, breakAfter: 2 });
    expect(resultText(result)).toBe("done after 6 steps");
    expect(session.received.map((r) => (r.kind === "progress" ? r.progress : r.kind))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(beta.executed.length).toBe(before.executed + 1);
    const resumes = beta.requests.slice(before.beta).filter((r) => r.httpMethod === "GET" && r.lastEventId !== undefined);
    expect(resumes).toHaveLength(1);
    // beta got its own event id back, not the client's beta:-prefixed one; alpha was never asked to resume anything.
    expect(resumes[0]?.lastEventId).not.toMatch(/^beta:/);
    expect(beta.events.some((event) => event.eventId === resumes[0]?.lastEventId)).toBe(true);
    expect(alpha.requests.slice(before.alpha).filter((r) => r.lastEventId !== undefined)).toEqual([]);
    expect(session.errors).toEqual([]);
  });
});

describe("two interactive servers behind the aggregated endpoint", () => {
  it("delivers one server's progress and logging notifications, in order, then its result; the other server is not involved", async () => {
    const session = await connect();
    const from = { alpha: alpha.sent.length, beta: beta.sent.length, betaExecuted: beta.executed.length };
    const args = { steps: 3, log: true, intervalMs: 10 };
    expect(resultText(await session.call("beta_progress_steps", args))).toBe("done after 3 steps");
    const sent = beta.sent.slice(from.beta);
    expect(sent.map((m) => m.method)).toEqual(Array(3).fill(["notifications/progress", "notifications/message"]).flat());
    expect(session.received).toEqual(expectedReceived(sent));
    expect(beta.executed.slice(from.betaExecuted)).toEqual([{ name: "progress_steps", arguments: args }]);
    expect(alpha.sent.length).toBe(from.alpha);
  });

  it("a server's sampling request reaches the client as <server>:<id>, and the answer goes back to that server alone, under its own id", async () => {
    const session = await connect();
    const before = { alpha: alpha.clientResponses.length, beta: beta.clientResponses.length, betaAnswers: beta.answers.length };
    const result = await session.call("beta_ask_sampling", { prompt: "What is 6 x 7?" });
    expect(resultText(result)).toBe(`the client sampled: an answer to "What is 6 x 7?" (model ${SAMPLING_MODEL})`);
    // The copy of the call's stream is read alongside the client's reading: it may end a moment later.
    const asked = await vi.waitFor(() => {
      const found = session.wire.fromGateway.find((m) => m.method === "sampling/createMessage");
      expect(found).toBeDefined();
      return found;
    });
    expect(asked?.id).toMatch(/^beta:\d+$/);
    const answered = session.wire.toGateway.find((m) => m.method === undefined && "result" in m);
    expect(answered?.id, "the client answered under the id it was shown").toBe(asked?.id);
    const ownId = JSON.parse((asked?.id as string).slice("beta:".length)) as number;
    expect(beta.clientResponses.slice(before.beta)).toEqual([expect.objectContaining({ id: ownId, result: expect.objectContaining({ model: SAMPLING_MODEL }) })]);
    expect(alpha.clientResponses.length, "alpha got no answer it never asked for").toBe(before.alpha);
    expect(beta.answers.slice(before.betaAnswers)).toEqual([expect.objectContaining({ tool: "ask_sampling", method: "sampling/createMessage" })]);
  });

  it("both servers asking at once under the same own ids: each answer reaches the server that asked", async () => {
    const session = await connect();
    const before = { alpha: alpha.answers.length, beta: beta.answers.length, alphaResponses: alpha.clientResponses.length, betaResponses: beta.clientResponses.length };
    const [elicited, sampled] = await Promise.all([session.call("alpha_ask_elicitation", { message: "Who are you?" }), session.call("beta_ask_sampling", { prompt: "hi" })]);
    expect(resultText(elicited)).toBe(`the user answered: ${JSON.stringify({ action: "accept", content: ELICITED })}`);
    expect(resultText(sampled)).toContain(`the client sampled: an answer to "hi"`);
    expect(alpha.answers.slice(before.alpha)).toEqual([{ tool: "ask_elicitation", method: "elicitation/create", result: { action: "accept", content: ELICITED } }]);
    expect(beta.answers.slice(before.beta)).toEqual([expect.objectContaining({ tool: "ask_sampling", method: "sampling/createMessage" })]);
    expect(alpha.clientResponses.slice(before.alphaResponses)).toEqual([expect.objectContaining({ result: { action: "accept", content: ELICITED } })]);
    expect(beta.clientResponses.slice(before.betaResponses)).toEqual([expect.objectContaining({ result: expect.objectContaining({ model: SAMPLING_MODEL }) })]);
    const ids = await vi.waitFor(() => {
      const found = session.wire.fromGateway.filter((m) => m.method === "sampling/createMessage" || m.method === "elicitation/create").map((m) => m.id as string);
      expect(found).toHaveLength(2);
      return found;
    });
    expect(ids.sort()).toEqual([expect.stringMatching(/^alpha:/), expect.stringMatching(/^beta:/)]);
    // Each server numbers its own requests: the same own id under each server's name is two different requests.
    expect(new Set(ids.map((id) => id.slice(id.indexOf(":") + 1))).size).toBe(1);
  });

  it("completes a roots/list round trip with the server that asked", async () => {
    const session = await connect();
    const before = beta.clientResponses.length;
    expect(resultText(await session.call("alpha_ask_roots", {}))).toBe(`roots: ${ROOTS.map((root) => root.uri).join(", ")}`);
    expect(alpha.answers.at(-1)).toEqual({ tool: "ask_roots", method: "roots/list", result: { roots: ROOTS } });
    expect(beta.clientResponses.length).toBe(before);
  });

  it("an answer under an id the gateway never wrote reaches no server, and one under a server's name reaches that server alone", async () => {
    const session = await connect();
    const sessionId = session.transport.sessionId as string;
    const post = (id: unknown) =>
      fetch(gateway.url, {
        method: "POST",
        headers: { ...MCP_HEADERS, authorization: `Bearer ${ada}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-11-25" },
        body: JSON.stringify({ jsonrpc: "2.0", id, result: { forged: true } }),
      });
    const before = { alpha: alpha.clientResponses.length, beta: beta.clientResponses.length };
    for (const id of [7, "7", "gamma:7", "alpha", "alpha:", "alpha:{\"x\":1}", null]) expect((await post(id)).status, JSON.stringify(id)).toBe(400);
    expect([alpha.clientResponses.length, beta.clientResponses.length]).toEqual([before.alpha, before.beta]);
    expect((await post("alpha:4242")).status).toBe(202);
    expect(alpha.clientResponses.slice(before.alpha)).toEqual([{ jsonrpc: "2.0", id: 4242, result: { forged: true } }]);
    expect(beta.clientResponses.length).toBe(before.beta);
  });

  it("the merged GET stream carries list_changed and resource notifications from either server, and lets go of both", async () => {
    const session = await connect();
    await vi.waitFor(() => expect([alpha.openGetStreams(), beta.openGetStreams()]).toEqual([1, 1]), { timeout: 5_000 });
    expect(resultText(await session.call("alpha_add_tool", { name: LATE_TOOLS.granted }))).toBe(`added ${LATE_TOOLS.granted}`);
    await vi.waitFor(() => expect(session.received).toContainEqual({ kind: "notification", method: "notifications/tools/list_changed", params: undefined }), { timeout: 5_000 });
    expect(resultText(await session.call("beta_notify_session", { uri: "docs://public/readme" }))).toBe("notified");
    await vi.waitFor(() => expect(session.received).toHaveLength(3), { timeout: 5_000 });
    expect(session.received.slice(1)).toEqual([
      { kind: "notification", method: "notifications/resources/updated", params: { uri: "docs://public/readme" } },
      { kind: "notification", method: "notifications/resources/list_changed", params: undefined },
    ]);
    // The tool alpha added is now alpha's, prefixed; the withheld one would not be listed.
    expect((await session.client.listTools()).tools.map((t) => t.name)).toContain(`alpha_${LATE_TOOLS.granted}`);
    await session.close();
    await vi.waitFor(() => expect([alpha.openGetStreams(), beta.openGetStreams()]).toEqual([0, 0]), { timeout: 5_000 });
  });
});

describe("a server that is down and one that is slow", () => {
  let docs: TestBackend;
  let slow: DelayingProxy;
  let degraded: TestGateway;
  const TIMEOUT_MS = 400;
  const DELAY_MS = 2_500;

  beforeAll(async () => {
    docs = await startBackend();
    slow = await startDelayingProxy(docs.url, { "tools/list": DELAY_MS, "resources/list": DELAY_MS });
    const closedPort = await freePort();
    degraded = await startGateway(
      settings([
        { name: "alpha", url: alpha.url },
        { name: "down", url: `http://127.0.0.1:${closedPort}/mcp` },
        { name: "slow", url: slow.url, timeoutMs: TIMEOUT_MS },
      ]),
    );
  });
  afterAll(async () => {
    await degraded?.close();
    await Promise.all([slow?.close(), docs?.close()]);
  });

  function unavailableIn(meta: unknown): string[] {
    return (((meta as Record<string, unknown> | undefined)?.[UNAVAILABLE] as Array<{ server: string }>) ?? []).map((u) => u.server).sort();
  }

  it("costs only their items in a session: the list answers within the slow server's timeout and names both", async () => {
    const session = await connect(degraded.url);
    const started = Date.now();
    const listed = await session.client.listTools();
    expect(Date.now() - started).toBeLessThan(DELAY_MS);
    expect(listed.tools.map((t) => t.name).sort()).toEqual([...INTERACTIVE_TOOLS].map((t) => `alpha_${t}`).sort());
    expect(unavailableIn(listed._meta)).toEqual(["down", "slow"]);
    const line = degraded.logger.requests().findLast((l) => l.mcpMethod === "tools/list");
    expect(line).toMatchObject({ status: 200, serversUnavailable: expect.arrayContaining(["down", "slow"]) });
    expect((line?.serversUnavailable as string[]).sort()).toEqual(["down", "slow"]);
  });

  it("costs only their items without a session too (stateless lists), each named with its reason", async () => {
    const started = Date.now();
    const response = await fetch(degraded.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${ada}`, "mcp-protocol-version": "2025-06-18" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(Date.now() - started).toBeLessThan(DELAY_MS);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { result: { tools: unknown[]; _meta?: Record<string, Array<{ server: string; reason: string }>> } };
    // Every server here keeps sessions, so alpha refuses a request without one too: its own refusal, named as well.
    const reasons = Object.fromEntries((body.result._meta?.[UNAVAILABLE] ?? []).map((u) => [u.server, u.reason]));
    expect(reasons).toEqual({ alpha: "answered HTTP 400", down: "Bad gateway: the MCP server could not be reached", slow: "did not answer in time" });
    expect(body.result.tools).toEqual([]);
    expect(degraded.logger.last()).toMatchObject({ status: 200, serversUnavailable: ["alpha", "down", "slow"] });
  });

  it("leaves calls to the other servers, and the slow server's quick calls, working", async () => {
    const session = await connect(degraded.url);
    expect(resultText(await session.call("alpha_progress_steps", { steps: 2 }))).toBe("done after 2 steps");
    const before = docs.executed.length;
    expect(resultText(await session.call("slow_echo", { message: "still here" }))).toBe("still here");
    expect(docs.executed.slice(before)).toEqual([{ kind: "tool", name: "echo", arguments: { message: "still here" } }]);
    await expect(session.call("down_echo", { message: "x" })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining("Unknown tool: down_echo") });
  });
});
