import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { KEEP_ALIVE_COMMENT, betweenEventsAfter, withKeepAlive } from "../../../functions/mcp/sse-keep-alive.js";
import { controlledStream } from "../../support/controlled-stream.js";

const INTERVAL_MS = 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const source = controlledStream;

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const chunks: string[] = [];
  for await (const chunk of stream) chunks.push(decoder.decode(chunk));
  return chunks;
}

describe("betweenEventsAfter", () => {
  it.each([
    ["data: x\n\n", false, true],
    ["data: x\r\n\r\n", false, true],
    ["data: x\r\r", false, true],
    ["data: x\n\r", false, true],
    ["data: x\r\r\n", false, true],
    ["data: x\n\r\n", false, true],
    ["data: x", true, false],
    ["data: x\n", true, false],
    ["data: x\r\n", true, false],
    ["data: x\r", true, false],
    // Line breaks alone leave the reader where it was, or are taken not to be between events.
    ["\n", true, true],
    ["\r\n", true, true],
    ["\n", false, false],
    ["", true, true],
    ["", false, false],
  ])("%j after %s: %s", (chunk, before, expected) => {
    expect(betweenEventsAfter(encoder.encode(chunk), before)).toBe(expected);
  });
});

describe("withKeepAlive", () => {
  it("returns the stream itself with an interval of 0", () => {
    const { stream } = source();
    expect(withKeepAlive(stream, { intervalMs: 0 })).toBe(stream);
  });

  it("writes a comment into a silence, then passes the events on", async () => {
    const backend = source();
    const kept = withKeepAlive(backend.stream, { intervalMs: INTERVAL_MS });
    const reader = kept.getReader();
    expect(decoder.decode((await reader.read()).value)).toBe(KEEP_ALIVE_COMMENT);
    backend.send("data: 1\n\n");
    backend.end();
    const rest: string[] = [];
    for (let next = await reader.read(); !next.done; next = await reader.read()) rest.push(decoder.decode(next.value));
    expect(rest.filter((chunk) => chunk !== KEEP_ALIVE_COMMENT)).toEqual(["data: 1\n\n"]);
  });

  it("opens with a comment when asked to", async () => {
    const backend = source();
    const reader = withKeepAlive(backend.stream, { intervalMs: 60_000, opensWithComment: true }).getReader();
    expect(decoder.decode((await reader.read()).value)).toBe(KEEP_ALIVE_COMMENT);
    await reader.cancel();
  });

  it("writes none inside an event, however long the silence within it", async () => {
    const backend = source();
    const kept = withKeepAlive(backend.stream, { intervalMs: INTERVAL_MS });
    backend.send("data: 1\n\nid: 2\ndata: 2");
    const all = readAll(kept);
    await pause(INTERVAL_MS * 6);
    backend.send("\n\n");
    await pause(INTERVAL_MS * 3);
    backend.end();
    const chunks = await all;
    expect(chunks.slice(0, 2)).toEqual(["data: 1\n\nid: 2\ndata: 2", "\n\n"]);
    // After the event ended, the next silence had its comment.
    expect(chunks.slice(2)).toContain(KEEP_ALIVE_COMMENT);
  });

  it("writes none while the reader has not taken the last chunk: one comment waits, not one per interval", async () => {
    const backend = source();
    const kept = withKeepAlive(backend.stream, { intervalMs: INTERVAL_MS });
    await pause(INTERVAL_MS * 8);
    backend.send("data: 1\n\n");
    backend.end();
    expect(await readAll(kept)).toEqual([KEEP_ALIVE_COMMENT, "data: 1\n\n"]);
  });

  describe("its timer (fake timers, so every pending one is counted: a live one does not hold the process)", () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it.each([
      ["ends", (backend: ReturnType<typeof source>) => backend.end()],
      ["fails", (backend: ReturnType<typeof source>) => backend.fail(new Error("backend gone"))],
    ])("is gone when its source %s", async (_, finish) => {
      const backend = source();
      const chunks: string[] = [];
      const read = (async () => {
        for await (const chunk of withKeepAlive(backend.stream, { intervalMs: INTERVAL_MS })) chunks.push(decoder.decode(chunk));
      })().catch(() => undefined);
      await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
      expect(vi.getTimerCount()).toBe(1);
      finish(backend);
      await read;
      expect(chunks).toEqual(Array(3).fill(KEEP_ALIVE_COMMENT));
      expect(vi.getTimerCount()).toBe(0);
    });

    it("is gone, and the source cancelled, when its reader cancels", async () => {
      const backend = source();
      const reader = withKeepAlive(backend.stream, { intervalMs: INTERVAL_MS }).getReader();
      await vi.advanceTimersByTimeAsync(INTERVAL_MS);
      expect(decoder.decode((await reader.read()).value)).toBe(KEEP_ALIVE_COMMENT);
      await reader.cancel("client gone");
      expect(vi.getTimerCount()).toBe(0);
      expect(backend.state.cancelled).toBe(true);
    });
  });
});
