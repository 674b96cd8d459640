import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LastEvent, createSseFilter, isSseLine, type SseFilterOptions, type SseMessageMapper } from "../../../functions/mcp/sse.js";
import { MAX_JSON_DEPTH } from "../../../functions/mcp/json-text.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes the chunks through a filter, ends the stream, and returns everything that came out. */
async function filterChunks(chunks: Uint8Array[], map: SseMessageMapper, onUnreadable?: () => void): Promise<Uint8Array> {
  const filter = createSseFilter(map, onUnreadable);
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

  it("passes an event whose bytes are not UTF-8 as the text that was judged, U+FFFD where they were", async () => {
    const invalid = Uint8Array.of(0xff);
    const bytes = new Uint8Array([...encoder.encode('data: {"a":"'), ...invalid, ...encoder.encode('"}\n\n: x'), ...invalid, ...encoder.encode("\n\n")]);
    const seen: unknown[] = [];
    const out = await filterChunks([bytes], (m) => void seen.push(m));
    expect(seen).toEqual([{ a: "\uFFFD" }]);
    expect(out).toEqual(encoder.encode('data: {"a":"\uFFFD"}\n\n: x\uFFFD\n\n'));
  });

  it("reads a CRLF split between its CR and its LF as one, even with an empty chunk between them", async () => {
    const text = 'id: 9\r\ndata: {"result":\r\ndata: "secret"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const chunks = [encoder.encode(text.slice(0, cut)), new Uint8Array(0), encoder.encode(text.slice(cut))];
      expect(normalise(decoder.decode(await filterChunks(chunks, hideSecrets)))).toBe('id: 9\ndata: {"result":"hidden"}\n\n');
    }
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

  it("writes a message naming a key twice again from what was judged, even when the mapper leaves it alone", async () => {
    const seen: unknown[] = [];
    const text = 'id: 4\ndata: {"result":{"tools":[{"name":"secret"}]},\ndata: "result":{"tools":[]}}\n\n';
    const out = decoder.decode(await filterChunks([encoder.encode(text)], (m) => void seen.push(m)));
    // JSON.parse keeps the last "result"; a client keeping the first must not be handed the other list.
    expect(seen).toEqual([{ result: { tools: [] } }]);
    expect(out).toBe('id: 4\ndata: {"result":{"tools":[]}}\n\n');
  });

  it("drops a message nested more deeply than MAX_JSON_DEPTH, and reports it", async () => {
    let unreadable = 0;
    const deep = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;
    const text = `data: ${deep(MAX_JSON_DEPTH)}\n\ndata: ${deep(MAX_JSON_DEPTH + 1)}\n\n`;
    const out = decoder.decode(await filterChunks([encoder.encode(text)], passThrough, () => unreadable++));
    expect(out).toBe(`data: ${deep(MAX_JSON_DEPTH)}\n\n`);
    expect(unreadable).toBe(1);
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

/** A source giving one chunk per read, which counts the chunks it gave and tells whether it was cancelled. */
function countingSource(chunks: Iterable<Uint8Array>): { stream: ReadableStream<Uint8Array>; seen: { pulled: number; cancelled: boolean } } {
  const iterator = chunks[Symbol.iterator]();
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = iterator.next();
        if (next.done) return controller.close();
        seen.pulled++;
        controller.enqueue(next.value);
      },
      cancel() {
        seen.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, seen };
}

function piped(stream: ReadableStream<Uint8Array>, map: SseMessageMapper, options: SseFilterOptions, onUnreadable?: () => void): Promise<string> {
  return new Response(stream.pipeThrough(createSseFilter(map, onUnreadable, options))).text();
}

function chunksOf(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
  return chunks;
}

describe("createSseFilter: the largest event", () => {
  const FINAL = 'event: message\ndata: {"error":"too large"}\n\n';
  const small = 'id: 1\ndata: {"a":1}\n\n';
  const big = `data: {"a":"${"x".repeat(1_000)}"}\n\n`;

  it("ends the stream at an event larger than maxEventBytes, with the final event, and cancels the source", async () => {
    let oversized = 0;
    const { stream, seen } = countingSource(chunksOf(encoder.encode(small + big + small.repeat(100)), 64));
    const out = await piped(stream, passThrough, { maxEventBytes: 256, onOversized: () => (oversized++, FINAL) });
    expect(out).toBe(small + FINAL);
    expect(oversized).toBe(1);
    expect(seen.cancelled).toBe(true);
    // Given up as soon as more than 256 bytes of the event had come, not at its end (chunk 17).
    expect(seen.pulled).toBeLessThanOrEqual(Math.ceil((small.length + 257) / 64) + 1);
  });

  it("does not wait for an event that never ends", async () => {
    function* endless(): Generator<Uint8Array> {
      yield encoder.encode("data: ");
      for (let i = 0; i < 1_000; i++) yield encoder.encode("x".repeat(1_024));
    }
    const { stream, seen } = countingSource(endless());
    const out = await piped(stream, passThrough, { maxEventBytes: 4_096, onOversized: () => FINAL });
    expect(out).toBe(FINAL);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThanOrEqual(7);
  });

  it("counts UTF-8 bytes: an event of exactly maxEventBytes passes, one byte more ends the stream, at every chunking", async () => {
    const event = 'data: {"a":"ééé"}\n\n';
    const size = encoder.encode(event).length;
    // In UTF-16 code units the event is shorter than either limit: only a count of bytes cuts it.
    expect(event.length).toBeLessThan(size - 1);
    const bytes = encoder.encode(event + small);
    for (const chunks of everySplit(bytes)) {
      expect(await piped(countingSource(chunks).stream, passThrough, { maxEventBytes: size, onOversized: () => FINAL })).toBe(event + small);
      expect(await piped(countingSource(chunks).stream, passThrough, { maxEventBytes: size - 1, onOversized: () => FINAL })).toBe(FINAL);
    }
  });

  it("ends the stream without a final event when onOversized gives none", async () => {
    const { stream, seen } = countingSource([encoder.encode(small + big + small)]);
    expect(await piped(stream, passThrough, { maxEventBytes: 256, onOversized: () => undefined })).toBe(small);
    expect(seen.cancelled).toBe(true);
  });

  it("has no limit by default: a 1 MiB event passes whole", async () => {
    const huge = `data: {"a":"${"y".repeat(1024 * 1024)}"}\n\n`;
    const out = await new Response(countingSource(chunksOf(encoder.encode(huge), 64 * 1024)).stream.pipeThrough(createSseFilter(passThrough))).text();
    // Compared as one string: an element-wise comparison of a megabyte takes seconds.
    expect(out.length).toBe(huge.length);
    expect(out === huge).toBe(true);
  });
});

describe("createSseFilter: lines that are not SSE", () => {
  const list = { jsonrpc: "2.0", id: 1, result: { tools: [{ name: "secret_tool" }] } };

  /** What came out as text, and how many events were reported unreadable. */
  async function filtered(chunks: Uint8Array[], map: SseMessageMapper = passThrough): Promise<{ text: string; unreadable: number }> {
    let unreadable = 0;
    const text = decoder.decode(await filterChunks(chunks, map, () => unreadable++));
    return { text, unreadable };
  }

  it("drops a JSON body labelled as an event stream and reports it, at every chunking", async () => {
    for (const body of [JSON.stringify(list), `${JSON.stringify(list)}\n`, `${JSON.stringify(list, null, 2)}\n\n`]) {
      for (const chunks of everySplit(encoder.encode(body))) expect(await filtered(chunks)).toEqual({ text: "", unreadable: 1 });
    }
  });

  it("drops an event with a line that is not SSE mid-stream, reports it, and passes the events around it", async () => {
    const text = 'data: {"a":1}\n\nx-note: hi\ndata: {"a":2}\n\n: ok\n\nDatum\n\ndata: {"a":3}\n\n';
    for (const chunks of everySplit(encoder.encode(text))) {
      expect(await filtered(chunks)).toEqual({ text: 'data: {"a":1}\n\n: ok\n\ndata: {"a":3}\n\n', unreadable: 2 });
    }
  });

  it("reads field names as SSE does: exact, without spaces around them", async () => {
    for (const event of ['Data: {"a":1}\n\n', ' data: {"a":1}\n\n', 'data : {"a":1}\n\n', 'ids: 1\n\n']) {
      expect(await filtered([encoder.encode(event)])).toEqual({ text: "", unreadable: 1 });
    }
    const known = "data\n\nid\n\nevent\n\nretry\n\nretry: soon\n\n:\n\nid:7\n\n";
    expect(await filtered([encoder.encode(known)])).toEqual({ text: known, unreadable: 0 });
  });

  it("reads a stream that starts with a byte order mark as clients do, and drops a line that starts with one later", async () => {
    for (const chunks of everySplit(encoder.encode('\uFEFFdata: {"result":"secret"}\n\n'))) {
      expect(await filtered(chunks, hideSecrets)).toEqual({ text: 'data: {"result":"hidden"}\n\n', unreadable: 0 });
    }
    expect(await filtered([encoder.encode("\uFEFF: hi\n\n")])).toEqual({ text: ": hi\n\n", unreadable: 0 });
    expect(await filtered([encoder.encode('data: {"a":1}\n\n\uFEFFdata: {"a":2}\n\n')])).toEqual({ text: 'data: {"a":1}\n\n', unreadable: 1 });
  });
});

describe("isSseLine", () => {
  const sse = ["", ":", ": keepalive", "data", "data:", "data: {}", "event: message", "id", "id: 1", "retry: 3000", "retry"];
  const notSse = ["{", '{"jsonrpc":"2.0","id":1}', "]", "  ", "Data: x", " data: x", "data : x", "dataa: x", "x-note: 1", "\uFEFFid: 1", "last-event-id: 1"];

  it("accepts empty lines, comments and the four fields, alone or before a colon, and refuses any other line, JSON included", () => {
    for (const [lines, expected] of [[sse, true], [notSse, false]] as const) {
      for (const line of lines) expect(isSseLine(line), JSON.stringify(line)).toBe(expected);
    }
  });
});

/** What a client reads from a whole body: the fields of each event, in order (comments and empty events left out). */
function clientEvents(body: string): Array<Array<[string, string]>> {
  const events: Array<Array<[string, string]>> = [];
  let fields: Array<[string, string]> = [];
  const lines = body.split(/\r\n|\r|\n/);
  // What follows the last line break is an unfinished line, which a client never reads.
  lines.pop();
  for (const line of lines) {
    if (line === "") {
      if (fields.length > 0) events.push(fields);
      fields = [];
    } else if (!line.startsWith(":")) {
      const colon = line.indexOf(":");
      fields.push(colon === -1 ? [line, ""] : [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, "")]);
    }
  }
  return events;
}

interface ModelMessage {
  jsonrpc: "2.0";
  id: number;
  result: "secret" | "public";
  note: string;
}

/** An event of the generated streams: fields around an optional message (its data over several lines), one line ending. */
interface ModelEvent {
  before: string[];
  message: ModelMessage | undefined;
  /** With no message: an empty data line (a priming event). */
  priming: boolean;
  /** `data: ` or `data:` before each data line. */
  spaced: boolean;
  after: string[];
  eol: "\n" | "\r\n" | "\r";
}

const lineText = fc.string({ unit: "grapheme", maxLength: 6 }).filter((text) => !/[\r\n]/.test(text));
const otherLine = fc.oneof(
  lineText.map((text) => `:${text}`),
  fc.nat(99).map((n) => `id: ${n}`),
  lineText.map((text) => `event: ${text}`),
  fc.nat(9_999).map((n) => `retry: ${n}`),
);
const messageArb: fc.Arbitrary<ModelMessage> = fc.record({
  jsonrpc: fc.constant("2.0" as const),
  id: fc.nat(99),
  result: fc.constantFrom("secret" as const, "public" as const),
  note: fc.string({ unit: "grapheme", maxLength: 4 }),
});
const eventArb: fc.Arbitrary<ModelEvent> = fc
  .record({
    before: fc.array(otherLine, { maxLength: 3 }),
    message: fc.option(messageArb, { nil: undefined }),
    priming: fc.boolean(),
    spaced: fc.boolean(),
    after: fc.array(otherLine, { maxLength: 2 }),
    eol: fc.constantFrom("\n" as const, "\r\n" as const, "\r" as const),
  })
  .filter((event) => event.message !== undefined || event.priming || event.before.length + event.after.length > 0);
/** Where a stream is cut into chunks: any byte boundary, an empty chunk where two cuts meet. */
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

function eventText(event: ModelEvent, message: ModelMessage | undefined = event.message, eol: string = event.eol): string {
  const prefix = event.spaced ? "data: " : "data:";
  // Pretty-printed JSON breaks only between tokens, so its lines can be data lines of their own.
  const data = message ? JSON.stringify(message, null, 1).split("\n").map((part) => prefix + part) : event.priming ? [prefix] : [];
  return [...event.before, ...data, ...event.after].join(eol) + eol + eol;
}

/** The event as the filter is to pass it under hideSecrets: a secret rewritten (one data line, LF), the rest as it came. */
function expectedText(event: ModelEvent): string {
  if (event.message?.result !== "secret") return eventText(event);
  const lines = [...event.before, `data: ${JSON.stringify({ ...event.message, result: "hidden" })}`, ...event.after];
  return `${lines.join("\n")}\n\n`;
}

function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const positions = cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b);
  return [...positions, bytes.length].map((end, i) => bytes.slice(i === 0 ? 0 : positions[i - 1], end));
}

describe("createSseFilter: any stream, cut anywhere", () => {
  it("passes every event byte for byte when the mapper leaves them alone", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 8 }), cutsArb, async (events, cuts) => {
        const bytes = encoder.encode(events.map((event) => eventText(event)).join(""));
        expect(await filterChunks(cutAt(bytes, cuts), passThrough)).toEqual(bytes);
      }),
    );
  });

  it("gives clients the events the mapper made, and every other as it came", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 8 }), cutsArb, async (events, cuts) => {
        const bytes = encoder.encode(events.map((event) => eventText(event)).join(""));
        const out = decoder.decode(await filterChunks(cutAt(bytes, cuts), hideSecrets));
        expect(clientEvents(out)).toEqual(clientEvents(events.map(expectedText).join("")));
      }),
    );
  });

  it("ends at the first event larger than maxEventBytes, after the events before it", async () => {
    const FINAL = 'event: message\ndata: {"error":"too large"}\n\n';
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { maxLength: 6 }), eventArb, fc.nat(), fc.nat(16), cutsArb, async (events, bigShape, index, extra, cuts) => {
        const limit = Math.max(1, ...events.map((event) => encoder.encode(eventText(event)).length)) + extra;
        const bigMessage: ModelMessage = { jsonrpc: "2.0", id: 0, result: "public", note: "x".repeat(limit) };
        const at = index % (events.length + 1);
        const stream = [...events.slice(0, at).map((e) => eventText(e)), eventText(bigShape, bigMessage), ...events.slice(at).map((e) => eventText(e))];
        let oversized = 0;
        const source = countingSource(cutAt(encoder.encode(stream.join("")), cuts)).stream;
        const out = await piped(source, hideSecrets, { maxEventBytes: limit, onOversized: () => (oversized++, FINAL) });
        expect(clientEvents(out)).toEqual(clientEvents(events.slice(0, at).map(expectedText).join("") + FINAL));
        expect(oversized).toBe(1);
      }),
    );
  });
});

describe("event ids rewritten (the aggregated endpoint's <server>:<id>)", () => {
  const encoder = new TextEncoder();
  const run = (text: string, map: SseMessageMapper = () => undefined) =>
    new Response(new Blob([encoder.encode(text)]).stream().pipeThrough(createSseFilter(map, undefined, { mapEventId: (id) => `a:${id}` }))).text();

  it("rewrites the id of events with data, of priming events and of events without data; keeps empty ids and the rest", async () => {
    expect(await run('id: 7\nevent: message\ndata: {"jsonrpc":"2.0","method":"x"}\n\n')).toBe('id: a:7\nevent: message\ndata: {"jsonrpc":"2.0","method":"x"}\n\n');
    expect(await run("id: 8\ndata:\n\n")).toBe("id: a:8\ndata:\n\n");
    expect(await run("id:9\nretry: 100\n\n")).toBe("id: a:9\nretry: 100\n\n");
    expect(await run("id\ndata: {}\n\n")).toBe("id\ndata: {}\n\n");
    expect(await run(": comment\n\n")).toBe(": comment\n\n");
  });

  it("rewrites the id and the data of the same event together", async () => {
    const out = await run('id: 1\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n', () => ({ jsonrpc: "2.0", id: 1, result: { changed: true } }));
    expect(out).toBe('id: a:1\ndata: {"jsonrpc":"2.0","id":1,"result":{"changed":true}}\n\n');
  });
});

describe("a CRLF split across chunks after an event the gateway wrote anew", () => {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  async function through(chunks: string[], map: SseMessageMapper): Promise<string> {
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
        controller.close();
      },
    });
    return decoder.decode(new Uint8Array(await new Response(source.pipeThrough(createSseFilter(map))).arrayBuffer()));
  }
  const rewrite: SseMessageMapper = (message) => ({ ...(message as object), rewritten: true });

  it("drops the LF whose CR ended a rewritten event, so no blank line of its own follows it", async () => {
    expect(await through(['data: {"a":1}\r\n\r', "\n"], rewrite)).toBe('data: {"a":1,"rewritten":true}\n\n');
    expect(await through(['data: {"a":1}\r\n\r', '\ndata: {"b":2}\r\n\r\n'], rewrite)).toBe('data: {"a":1,"rewritten":true}\n\ndata: {"b":2,"rewritten":true}\n\n');
  });

  it("keeps it after an event passed as it came, and inside an event still under way", async () => {
    expect(await through(['data: {"a":1}\r\n\r', "\n"], () => undefined)).toBe('data: {"a":1}\r\n\r\n');
    expect(await through(['data: {"a":1}\r', "\n\n"], () => undefined)).toBe('data: {"a":1}\r\n\n');
    expect(await through(['data: {"a":1}\r', "\n\r\n"], rewrite)).toBe('data: {"a":1,"rewritten":true}\n\n');
  });
});
