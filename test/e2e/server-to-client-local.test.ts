/**
 * Server-to-client traffic through the local server (the node adapter): during a tool call the backend sends
 * progress and logging notifications and asks the client for sampling, elicitation and roots; the client answers
 * with POSTs; the session's standalone GET stream carries the backend's own notifications. A real v1-SDK client and
 * a real v1-SDK backend, the gateway between them, a real identity provider, and a policy granting the tools.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import {
  ELICITATION_SCHEMA,
  INTERACTIVE_ROLE,
  startInteractiveBackend,
  writeInteractivePolicy,
  type InteractiveBackend,
} from "../support/interactive-backend.js";
import {
  ELICITED,
  ROOTS,
  SAMPLING_MODEL,
  connectInteractiveClient,
  expectedReceived,
  resultText,
  type InteractiveClient,
} from "../support/interactive-client.js";

let idp: TestIdentityProvider;
let backend: InteractiveBackend;
let gateway: TestGateway;
let ada: string;
let outsider: string;
const clients: InteractiveClient[] = [];

beforeAll(async () => {
  [idp, backend] = await Promise.all([startIdentityProvider(), startInteractiveBackend()]);
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: writeInteractivePolicy() }));
  ada = await idp.token({ subject: "ada", claims: { roles: [INTERACTIVE_ROLE] }, expiresIn: "1h" });
  outsider = await idp.token({ subject: "mallory", claims: { roles: ["guest"] }, expiresIn: "1h" });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await idp?.close();
});

async function connect(token = ada): Promise<InteractiveClient> {
  const client = await connectInteractiveClient(gateway.url, token);
  clients.push(client);
  return client;
}

/** What the backend sent during one tool's calls, from the index `from` of its record on. */
const sentBy = (tool: string, from = 0) => backend.sent.slice(from).filter((message) => message.tool === tool);

describe("server-to-client traffic through the local server", () => {
  it("delivers progress (to onprogress) and logging notifications in the order the backend sent them, then the result", async () => {
    const session = await connect();
    const from = backend.sent.length;
    const result = await session.call("progress_steps", { steps: 4, log: true, intervalMs: 20 });
    expect(resultText(result)).toBe("done after 4 steps");
    const sent = sentBy("progress_steps", from);
    expect(sent.map((message) => message.method)).toEqual(Array(4).fill(["notifications/progress", "notifications/message"]).flat());
    expect(session.received).toEqual(expectedReceived(sent));
    expect(session.received.filter((r) => r.kind === "progress").map((r) => (r.kind === "progress" ? r.progress : 0))).toEqual([1, 2, 3, 4]);
    expect(backend.executed.at(-1)).toEqual({ name: "progress_steps", arguments: { steps: 4, log: true, intervalMs: 20 } });
  });

  it("delivers logging notifications at every level, in order, after logging/setLevel reached the backend", async () => {
    const session = await connect();
    await session.client.setLoggingLevel("debug");
    expect(backend.requests.map((r) => r.rpc)).toContain("logging/setLevel");
    const from = backend.sent.length;
    const levels = ["debug", "info", "notice", "warning", "error", "critical"];
    const result = await session.call("log_levels", { levels });
    expect(resultText(result)).toBe("logged 6 messages");
    expect(session.received).toEqual(levels.map((level) => ({ kind: "log", level, data: `a ${level} message` })));
    expect(session.received).toEqual(expectedReceived(sentBy("log_levels", from)));
  });

  it("completes a sampling round trip: the client is asked on the call's stream, and the backend gets its answer", async () => {
    const session = await connect();
    const answersBefore = backend.answers.length;
    const result = await session.call("ask_sampling", { prompt: "What is 6 x 7?" });
    expect(resultText(result)).toBe(`the client sampled: an answer to "What is 6 x 7?" (model ${SAMPLING_MODEL})`);
    expect(session.asked).toEqual([
      { method: "sampling/createMessage", params: expect.objectContaining({ messages: [{ role: "user", content: { type: "text", text: "What is 6 x 7?" } }] }) },
    ]);
    // The backend received the client's answer (through a POST of a JSON-RPC response) and used it.
    expect(backend.answers.slice(answersBefore)).toEqual([
      {
        tool: "ask_sampling",
        method: "sampling/createMessage",
        result: { role: "assistant", content: { type: "text", text: 'an answer to "What is 6 x 7?"' }, model: SAMPLING_MODEL, stopReason: "endTurn" },
      },
    ]);
    expect(backend.clientResponses.at(-1)).toMatchObject({ jsonrpc: "2.0", result: { model: SAMPLING_MODEL } });
    expect(session.received).toEqual([{ kind: "log", level: "info", data: "asking the client to sample" }]);
  });

  it("completes an elicitation round trip: the user's answer reaches the backend", async () => {
    const session = await connect();
    const answersBefore = backend.answers.length;
    const result = await session.call("ask_elicitation", { message: "Who are you?" });
    expect(resultText(result)).toBe(`the user answered: ${JSON.stringify({ action: "accept", content: ELICITED })}`);
    expect(session.asked).toEqual([
      { method: "elicitation/create", params: expect.objectContaining({ message: "Who are you?", requestedSchema: ELICITATION_SCHEMA }) },
    ]);
    expect(backend.answers.slice(answersBefore)).toEqual([
      { tool: "ask_elicitation", method: "elicitation/create", result: { action: "accept", content: ELICITED } },
    ]);
    expect(backend.clientResponses.at(-1)).toMatchObject({ result: { action: "accept", content: ELICITED } });
  });

  it("completes a roots/list round trip", async () => {
    const session = await connect();
    const result = await session.call("ask_roots", {});
    expect(resultText(result)).toBe(`roots: ${ROOTS.map((root) => root.uri).join(", ")}`);
    expect(session.asked.map((request) => request.method)).toEqual(["roots/list"]);
    expect(backend.answers.at(-1)).toEqual({ tool: "ask_roots", method: "roots/list", result: { roots: ROOTS } });
  });

  it("carries the backend's notifications on the session's standalone GET stream", async () => {
    const session = await connect();
    // The SDK client opens the GET stream by itself after initialization.
    await vi.waitFor(() => expect(backend.openGetStreams()).toBe(1), { timeout: 3_000 });
    expect(backend.requests.filter((r) => r.httpMethod === "GET").at(-1)).toEqual({ httpMethod: "GET", protocolVersion: "2025-11-25" });
    const from = backend.sent.length;
    expect(resultText(await session.call("notify_session", { uri: "docs://public/readme" }))).toBe("notified");
    const sent = sentBy("notify_session", from);
    expect(sent.every((message) => message.stream === "standalone")).toBe(true);
    await vi.waitFor(() => expect(session.received).toHaveLength(2), { timeout: 3_000 });
    expect(session.received).toEqual(expectedReceived(sent));
    expect(session.received[0]).toEqual({ kind: "notification", method: "notifications/resources/updated", params: { uri: "docs://public/readme" } });
  });

  it("refuses the interactive tools to a caller without the role: the backend executes nothing and asks nothing", async () => {
    const session = await connect(outsider);
    const executedBefore = backend.executed.length;
    const sentBefore = backend.sent.length;
    await expect(session.call("ask_sampling", { prompt: "let me in" })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining("Unknown tool: ask_sampling") });
    expect(backend.executed.length).toBe(executedBefore);
    expect(backend.sent.length).toBe(sentBefore);
    expect(session.asked).toEqual([]);
  });
});
