/**
 * The server-to-client scenarios, written once for every front door: a real v1-SDK client and the interactive
 * backend, the gateway between them. Each scenario checks what the client received (in the exact order the backend
 * sent it), what the client was asked, and what the backend executed and got back.
 *
 * Every front door carries progress and logging notifications and refuses the tools to a caller without the role.
 * Round trips (sampling, elicitation, roots) and the standalone GET stream need a front door that lets the client
 * answer while the call is still running: the caller says whether its front door does.
 */
import { expect, it, vi } from "vitest";
import { ELICITATION_SCHEMA } from "./interactive-backend.js";
import { ELICITED, ROOTS, SAMPLING_MODEL, expectedReceived, resultText } from "./interactive-client.js";
import type { Stage } from "./server-to-client-front-doors.js";

export interface Carried {
  /** Server-to-client requests during a call, answered by the client on a POST while the call's stream is open. */
  roundTrips: boolean;
  /** The session's standalone GET stream. */
  standaloneStream: boolean;
}

const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** Registers, in the calling describe block, the scenarios the front door carries. */
export function itCarriesServerToClientTraffic(stage: Stage, carried: Carried): void {
  it("delivers progress (to onprogress) and logging notifications in the order the backend sent them, then the result", async () => {
    const { backend } = stage;
    const session = await stage.connect();
    const from = backend.sent.length;
    const args = { steps: 4, log: true, intervalMs: 20 };
    expect(resultText(await session.call("progress_steps", args))).toBe("done after 4 steps");
    const sent = backend.sent.slice(from);
    expect(sent.map((message) => message.method)).toEqual(Array(4).fill(["notifications/progress", "notifications/message"]).flat());
    expect(sent.every((message) => message.tool === "progress_steps" && message.stream === "call")).toBe(true);
    expect(session.received).toEqual(expectedReceived(sent));
    expect(session.received.filter((r) => r.kind === "progress").map((r) => (r.kind === "progress" ? r.progress : 0))).toEqual([1, 2, 3, 4]);
    expect(backend.executed.at(-1)).toEqual({ name: "progress_steps", arguments: args });
    // A streamed response's line is written when its stream ends, which may be just after the client read the result.
    const accessLogOfCall = () => stage.door.accessLog().filter((line) => line.mcpMethod === "tools/call" && line.tool === "progress_steps").at(-1);
    await vi.waitFor(() => expect(accessLogOfCall()).toMatchObject({ status: 200, decision: "allowed", subject: "ada" }));
  });

  it("delivers logging notifications at every level, in order, after logging/setLevel reached the backend", async () => {
    const { backend } = stage;
    const session = await stage.connect();
    await session.client.setLoggingLevel("debug");
    expect(backend.requests.map((r) => r.rpc)).toContain("logging/setLevel");
    const from = backend.sent.length;
    expect(resultText(await session.call("log_levels", { levels: LEVELS }))).toBe(`logged ${LEVELS.length} messages`);
    expect(session.received).toEqual(LEVELS.map((level) => ({ kind: "log", level, data: `a ${level} message` })));
    expect(session.received).toEqual(expectedReceived(stage.sentBy("log_levels", from)));
  });

  it("refuses the interactive tools to a caller without the role: the backend executes nothing and asks nothing", async () => {
    const { backend } = stage;
    const session = await stage.connect(stage.outsider);
    const executedBefore = backend.executed.length;
    const sentBefore = backend.sent.length;
    await expect(session.call("ask_sampling", { prompt: "let me in" })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining("Unknown tool: ask_sampling"),
    });
    expect(backend.executed.length).toBe(executedBefore);
    expect(backend.sent.length).toBe(sentBefore);
    expect(session.asked).toEqual([]);
  });

  if (carried.roundTrips) itCompletesRoundTrips(stage);
  if (carried.standaloneStream) itCarriesTheStandaloneStream(stage);
}

function itCompletesRoundTrips(stage: Stage): void {
  it("completes a sampling round trip: the client is asked on the call's stream, and the backend gets its answer", async () => {
    const { backend } = stage;
    const session = await stage.connect();
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
    const { backend } = stage;
    const session = await stage.connect();
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
    const session = await stage.connect();
    const result = await session.call("ask_roots", {});
    expect(resultText(result)).toBe(`roots: ${ROOTS.map((root) => root.uri).join(", ")}`);
    expect(session.asked.map((request) => request.method)).toEqual(["roots/list"]);
    expect(stage.backend.answers.at(-1)).toEqual({ tool: "ask_roots", method: "roots/list", result: { roots: ROOTS } });
  });
}

function itCarriesTheStandaloneStream(stage: Stage): void {
  it("carries the backend's notifications on the session's standalone GET stream, and lets go of it when the client leaves", async () => {
    const { backend } = stage;
    const session = await stage.connect();
    // The SDK client opens the GET stream by itself after initialization.
    await vi.waitFor(() => expect(backend.openGetStreams()).toBe(1), { timeout: 3_000 });
    expect(backend.requests.filter((r) => r.httpMethod === "GET").at(-1)).toEqual({ httpMethod: "GET", protocolVersion: "2025-11-25" });
    const from = backend.sent.length;
    expect(resultText(await session.call("notify_session", { uri: "docs://public/readme" }))).toBe("notified");
    const sent = stage.sentBy("notify_session", from);
    expect(sent.every((message) => message.stream === "standalone")).toBe(true);
    await vi.waitFor(() => expect(session.received).toHaveLength(2), { timeout: 3_000 });
    expect(session.received).toEqual(expectedReceived(sent));
    expect(session.received[0]).toEqual({ kind: "notification", method: "notifications/resources/updated", params: { uri: "docs://public/readme" } });
    // Closing the client breaks its GET stream; the gateway then lets go of the backend's stream.
    await session.close();
    await vi.waitFor(() => expect(backend.openGetStreams()).toBe(0), { timeout: 3_000 });
  });
}
