/**
 * Resumable streams through the local server (the node adapter), protocol 2025-11-25: priming events (an id with
 * empty data) and `retry:` fields reach the client byte for byte, and a call's stream that breaks mid-way (closed by
 * the server, or dropped by the client) is resumed with `Last-Event-ID` on a GET through the gateway, delivering the
 * remaining events once, while the backend executes the call once.
 */
import { describe, expect, it, vi } from "vitest";
import { MCP_HEADERS } from "../support/gateway.js";
import { RETRY_MS, type StoredEvent } from "../support/interactive-backend.js";
import { resultText } from "../support/interactive-client.js";
import { messageOf, openRawSession, sseEvents, toolCall, type SseEvent } from "../support/raw-mcp.js";
import { localServer, useFrontDoor } from "../support/server-to-client-front-doors.js";

const stage = useFrontDoor(localServer);

/** The events the backend stored for the stream that answered request `id`, in order. */
function streamAnswering(id: number): StoredEvent[] {
  const { backend } = stage;
  const answer = backend.events.find((event) => "result" in event.message && (event.message as { id?: unknown }).id === id);
  if (!answer) throw new Error(`the backend stored no answer to request ${id}`);
  return backend.events.filter((event) => event.streamId === answer.streamId);
}

/** The exact bytes the backend's SDK writes for those events (priming event first, with the retry interval). */
function backendBytes(events: StoredEvent[]): string {
  return events
    .map(({ eventId, message }) =>
      "jsonrpc" in message ? `event: message\nid: ${eventId}\ndata: ${JSON.stringify(message)}\n\n` : `id: ${eventId}\nretry: ${RETRY_MS}\ndata: \n\n`,
    )
    .join("");
}

const progressOf = (events: SseEvent[]) =>
  events.map(messageOf).filter((m) => m?.method === "notifications/progress").map((m) => (m?.params as { progress: number }).progress);

describe("resumable streams through the local server (protocol 2025-11-25)", () => {
  it("passes priming events and retry fields on byte for byte: initialize, and a call's stream", async () => {
    const session = await openRawSession(stage.door.url, stage.ada, "2025-11-25");
    expect(session.initializeBody).toMatch(new RegExp(`^id: \\S+\\nretry: ${RETRY_MS}\\ndata: \\n\\n`));
    expect(session.initializeBody).toBe(backendBytes(streamAnswering(0)));

    const response = await fetch(stage.door.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, ...session.headers },
      body: JSON.stringify(toolCall(5, "progress_steps", { steps: 2, log: true })),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const body = await response.text();
    const stored = streamAnswering(5);
    // Priming event, two progress, two log messages, the result: every id the backend issued, in its exact framing.
    expect(stored.map(({ message }) => ("jsonrpc" in message ? ("method" in message ? message.method : "result") : "priming"))).toEqual([
      "priming", "notifications/progress", "notifications/message", "notifications/progress", "notifications/message", "result",
    ]);
    expect(body).toBe(backendBytes(stored));
  });

  it("resumes a call whose stream the server closed mid-way (SDK client: reconnects with Last-Event-ID on GET)", async () => {
    const { backend } = stage;
    const session = await stage.connect();
    const requestsBefore = backend.requests.length;
    const executedBefore = backend.executed.length;
    const result = await session.call("progress_steps", { steps: 6, intervalMs: 50, breakAfter: 2 });
    expect(resultText(result)).toBe("done after 6 steps");
    expect(session.received.map((r) => (r.kind === "progress" ? r.progress : r.kind))).toEqual([1, 2, 3, 4, 5, 6]);
    // The backend executed the call once, and was asked to replay it from the last event the client had seen.
    expect(backend.executed.length).toBe(executedBefore + 1);
    const resumes = backend.requests.slice(requestsBefore).filter((r) => r.httpMethod === "GET" && r.lastEventId !== undefined);
    expect(resumes).toHaveLength(1);
    const stream = backend.events.filter((event) => event.streamId === backend.events.find((e) => e.eventId === resumes[0]?.lastEventId)?.streamId);
    const seenBeforeBreak = stream.findIndex((event) => event.eventId === resumes[0]?.lastEventId);
    // The last event the client saw before the break was the second progress notification.
    expect(stream[seenBeforeBreak]?.message).toMatchObject({ method: "notifications/progress", params: { progress: 2 } });
    expect(session.errors).toEqual([]);
  });

  it("resumes a call whose stream the client dropped, from Last-Event-ID on a GET, with the remaining events", async () => {
    const { backend } = stage;
    const session = await openRawSession(stage.door.url, stage.ada, "2025-11-25");
    const executedBefore = backend.executed.length;
    const closedBefore = backend.closedEarly.length;
    const call = toolCall(7, "progress_steps", { steps: 6, intervalMs: 120 });
    const aborter = new AbortController();
    const response = await fetch(stage.door.url, { method: "POST", headers: { ...MCP_HEADERS, ...session.headers }, body: JSON.stringify(call), signal: aborter.signal });
    expect(response.status).toBe(200);
    const beforeBreak: SseEvent[] = [];
    for await (const event of sseEvents(response.body as ReadableStream<Uint8Array>)) {
      beforeBreak.push(event);
      if (progressOf(beforeBreak).length === 2) break;
    }
    aborter.abort();
    expect(beforeBreak[0]).toMatchObject({ data: "", retry: String(RETRY_MS), id: expect.any(String) });
    const lastEventId = beforeBreak.at(-1)?.id as string;
    expect(backend.events.map((event) => event.eventId)).toContain(lastEventId);
    // The gateway let go of the backend's stream when the client left.
    await vi.waitFor(() => expect(backend.closedEarly.slice(closedBefore)).toContain("POST tools/call"), { timeout: 3_000 });

    const resumed = await fetch(stage.door.url, {
      headers: { ...session.headers, accept: "text/event-stream", "last-event-id": lastEventId },
    });
    expect(resumed.status).toBe(200);
    const afterBreak: SseEvent[] = [];
    for await (const event of sseEvents(resumed.body as ReadableStream<Uint8Array>)) {
      afterBreak.push(event);
      if (messageOf(event)?.id === 7) break;
    }
    expect(backend.requests.at(-1)).toMatchObject({ httpMethod: "GET", lastEventId });
    expect(progressOf(beforeBreak)).toEqual([1, 2]);
    expect(progressOf(afterBreak)).toEqual([3, 4, 5, 6]);
    expect(messageOf(afterBreak.at(-1) as SseEvent)).toEqual({ jsonrpc: "2.0", id: 7, result: { content: [{ type: "text", text: "done after 6 steps" }] } });
    // Every resumed event is one the backend stored after the last one seen, with the backend's id.
    const stored = streamAnswering(7);
    const after = stored.slice(stored.findIndex((event) => event.eventId === lastEventId) + 1);
    expect(afterBreak.map((event) => event.id)).toEqual(after.map((event) => event.eventId));
    expect(backend.executed.length).toBe(executedBefore + 1);
  });
});
