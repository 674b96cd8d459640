import { describe, expect, it } from "vitest";
import { LastEvent, createSseFilter, type SseMessageMapper } from "../../../functions/mcp/sse.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes the chunks through a filter, ends the stream, and returns everything that came out. */
async function filterChunks(chunks: Uint8Array[], map: SseMessageMapper): Promise<Uint8Array> {
  const filter = createSseFilter(map);
  const collected = new Response(filter.readable).arrayBuffer();
  const writer = filter.writable.getWriter();
  for (const chunk of chunks) await writer.write(chunk);
  await writer.close();
  return new Uint8Array(await collected);
}

/** The same bytes cut into two chunks at every possible place, plus one byte per chunk. */
function everySplit(bytes: Uint8Array): Uint8Array[][] {
  const splits: Uint8Array[][] = [[bytes], Array.from(bytes, (b) => Uint8Array.of(b))];
  for (let i = 1; i < bytes.length; i++) splits.push([bytes.slice(0, i), bytes.slice(i)]);
  return splits;
}

const passThrough: SseMessageMapper = () => undefined;
/** Rewrites only messages whose result is "secret"; leaves every other event alone. */
const hideSecrets: SseMessageMapper = (m) =>
  typeof m === "object" && m !== null && (m as { result?: unknown }).result === "secret" ? { ...m, result: "hidden" } : undefined;

/** Line endings unified, and extra blank lines between events dropped (an empty dispatch is a no-op in SSE). */
const normalise = (text: string) => text.replace(/\r\n|\r/g, "\n").replace(/\n{3,}/g, "\n\n");

/** A stream exercising every kind of event, with the given line ending. */
function sampleStream(eol: string): { text: string; untouched: string[] } {
  const events = [
    [": keepalive"],
    ["id: 1", "data: "],
    ["retry: 3000"],
    ["event: endpoint"],
    ["id: 2", "event: message", "data: {\"jsonrpc\":\"2.0\",", "data: \"id\":1,\"result\":\"public\"}"],
    ["data:{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":\"ünïcødé 😀\"}"],
  ].map((lines) => lines.join(eol) + eol + eol);
  // The stream ends with an LF-terminated event: a CR at the very end of a stream is a separate case (see below).
  const last = 'data: {"jsonrpc":"2.0","id":4,"result":"end"}\n\n';
  return { text: events.join("") + last, untouched: [...events, last] };
}

describe("createSseFilter: events the mapper leaves alone pass byte for byte", () => {
  for (const [label, eol] of [["LF", "\n"], ["CRLF", "\r\n"], ["CR", "\r"]] as const) {
    it(`${label} line endings, split at every byte boundary`, async () => {
      const bytes = encoder.encode(sampleStream(eol).text);
      for (const chunks of everySplit(bytes)) {
        expect(await filterChunks(chunks, passThrough)).toEqual(bytes);
      }
    });
  }

  it("does not hand events without data to the mapper, and keeps them even when the mapper would rewrite", async () => {
    const seen: unknown[] = [];
    const text = ": keepalive\n\nid: 1\ndata: \n\nretry: 10\n\nevent: x\n\n\n\n";
    const out = await filterChunks([encoder.encode(text)], (m) => {
      seen.push(m);
      return { replaced: true };
    });
    expect(decoder.decode(out)).toBe(text);
    expect(seen).toEqual([]);
  });

  it("drops an event whose data is not JSON (it cannot be checked), reports it, and passes the rest", async () => {
    let unreadable = 0;
    const filter = createSseFilter(passThrough, () => unreadable++);
    const collected = new Response(filter.readable).text();
    const writer = filter.writable.getWriter();
    await writer.write(encoder.encode('data: {"result":{"tools":[{"name":"x"}]\n\nid: 2\ndata: {"a":1}\n\ndata: hello'));
    await writer.close();
    expect(await collected).toBe('id: 2\ndata: {"a":1}\n\n');
    expect(unreadable).toBe(2);
  });

  it("ends the stream with a last event: nothing after it passes, even in the same chunk, and the source is cancelled", async () => {
    const endAtB: SseMessageMapper = (m) => ((m as { b?: number }).b === undefined ? undefined : new LastEvent({ ended: true }));
    let cancelled = false;
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('id: 1\ndata: {"a":1}\n\nid: 2\ndata: {"b":2}\n\ndata: {"a":3}\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    const out = await new Response(source.pipeThrough(createSseFilter(endAtB))).text();
    expect(out).toBe('id: 1\ndata: {"a":1}\n\nid: 2\ndata: {"ended":true}\n\n');
    expect(cancelled).toBe(true);
  });

  it("passes a CRLF blank line split between its CR and its LF as one, without adding a line", async () => {
    const text = 'id: 9\r\ndata: {"a":1}\r\n\r\n';
    const cut = text.length - 1;
    const out = await filterChunks([encoder.encode(text.slice(0, cut)), encoder.encode(text.slice(cut))], passThrough);
    expect(decoder.decode(out)).toBe(text);
  });

  it("keeps multi-byte UTF-8 split across chunks intact", async () => {
    const bytes = encoder.encode('data: {"jsonrpc":"2.0","id":1,"result":"é日本😀"}\n\n');
    for (const chunks of everySplit(bytes)) {
      expect(await filterChunks(chunks, passThrough)).toEqual(bytes);
    }
  });
});

describe("createSseFilter: events the mapper rewrites", () => {
  it("hands the mapper the parsed JSON of the joined data lines", async () => {
    const seen: unknown[] = [];
    await filterChunks([encoder.encode('data: {"a":\ndata: [1,\ndata:2]}\n\n')], (m) => void seen.push(m));
    expect(seen).toEqual([{ a: [1, 2] }]);
  });

  it("replaces the data and keeps id, event, retry and comments in place", async () => {
    const text = [": note", "id: 7", "event: message", "retry: 100", 'data: {"jsonrpc":"2.0",', 'data: "id":1,"result":"secret"}', "", ""].join("\n");
    const out = decoder.decode(await filterChunks([encoder.encode(text)], hideSecrets));
    expect(out.split("\n")).toEqual([
      ": note",
      "id: 7",
      "event: message",
      "retry: 100",
      `data: ${JSON.stringify({ jsonrpc: "2.0", id: 1, result: "hidden" })}`,
      "",
      "",
    ]);
  });

  it("keeps fields written after the data lines in place too", async () => {
    const out = decoder.decode(await filterChunks([encoder.encode('data: {"result":"secret"}\nid: 8\n\n')], hideSecrets));
    expect(out).toBe('data: {"result":"hidden"}\nid: 8\n\n');
  });

  for (const [label, eol] of [["LF", "\n"], ["CRLF", "\r\n"], ["CR", "\r"]] as const) {
    it(`rewrites only the events it should, ${label} line endings, split at every byte boundary`, async () => {
      const secret = ["id: 5", "event: message", 'data: {"jsonrpc":"2.0","id":5,', 'data: "result":"secret"}'].join(eol) + eol + eol;
      const { untouched } = sampleStream(eol);
      const [first, ...rest] = untouched;
      const input = (first as string) + secret + rest.join("");
      const expected = normalise(
        (first as string) + `id: 5\nevent: message\ndata: {"jsonrpc":"2.0","id":5,"result":"hidden"}\n\n` + rest.join(""),
      );
      for (const chunks of everySplit(encoder.encode(input))) {
        const out = decoder.decode(await filterChunks(chunks, hideSecrets));
        expect(normalise(out)).toBe(expected);
        for (const event of untouched) expect(out).toContain(event);
        expect(out).not.toContain("secret");
      }
    });
  }

  it("keeps multi-byte UTF-8 split across chunks intact in a rewritten event", async () => {
    const bytes = encoder.encode('data: {"result":"secret","note":"é日本😀"}\n\n');
    for (const chunks of everySplit(bytes)) {
      const out = decoder.decode(await filterChunks(chunks, hideSecrets));
      expect(out).toBe('data: {"result":"hidden","note":"é日本😀"}\n\n');
    }
  });

  it("still filters an unterminated last event when the stream ends", async () => {
    for (const tail of ['data: {"result":"secret"}', 'data: {"result":"secret"}\n', 'id: 3\r\ndata: {"result":"secret"}\r']) {
      const out = decoder.decode(await filterChunks([encoder.encode(`: hi\n\n${tail}`)], hideSecrets));
      expect(out.startsWith(": hi\n\n")).toBe(true);
      expect(out).toContain('data: {"result":"hidden"}');
      expect(out).not.toContain("secret");
      // Still unterminated: the gateway never completes an event the backend left unfinished.
      expect(out.endsWith('data: {"result":"hidden"}')).toBe(true);
    }
  });
});

describe("createSseFilter: streaming", () => {
  /** What the filter emits for one written chunk, before the stream ends (or "" if nothing within 50 ms). */
  async function emittedBeforeEnd(text: string): Promise<string> {
    const filter = createSseFilter(passThrough);
    const reader = filter.readable.getReader();
    void filter.writable.getWriter().write(encoder.encode(text));
    const timeout = new Promise<string>((resolve) => setTimeout(() => resolve(""), 50));
    return Promise.race([reader.read().then(({ value }) => decoder.decode(value)), timeout]);
  }

  it("emits a complete event as soon as it arrives (LF and CRLF)", async () => {
    expect(await emittedBeforeEnd('data: {"a":1}\n\n')).toBe('data: {"a":1}\n\n');
    expect(await emittedBeforeEnd('data: {"a":1}\r\n\r\n')).toBe('data: {"a":1}\r\n\r\n');
  });

  it("holds back an incomplete event", async () => {
    expect(await emittedBeforeEnd('data: {"a":1}\n')).toBe("");
  });

  // A CR at the end of the buffer may be half a CRLF, but when it is the blank line itself the event is complete:
  // with CR line endings an event must not wait for the next chunk (on a GET stream, possibly never).
  it("emits a complete event as soon as it arrives (CR)", async () => {
    expect(await emittedBeforeEnd('data: {"a":1}\r\r')).toBe('data: {"a":1}\r\r');
  });

  it("passes a stream whose last byte is a CR byte for byte", async () => {
    const bytes = encoder.encode('data: {"a":1}\r\r');
    expect(await filterChunks([bytes], passThrough)).toEqual(bytes);
  });
});
