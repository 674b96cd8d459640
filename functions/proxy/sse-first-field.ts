/**
 * The first field name of an event stream, read before the client is answered: a body labelled `text/event-stream`
 * that does not start with an SSE field (`data`, `event`, `id`, `retry`, or a `:` comment) is not an event stream,
 * and a client that sniffs it may read it as something else (a JSON body, unfiltered). Only as many bytes are read
 * as it takes to see the first field's name; they are replayed, so the stream the caller gets is the whole body.
 */

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const BOM = [0xef, 0xbb, 0xbf];

/** Longer than any SSE field name: a first line with no colon within this many bytes is not SSE. */
const LONGEST_FIELD_NAME = 16;

export interface FirstField {
  /**
   * The name of the stream's first field (empty for a comment), or the first bytes of a first line too long to be
   * one; undefined when the stream ended before any line began.
   */
  fieldName: string | undefined;
  /** The whole body, the bytes already read included. */
  stream: ReadableStream<Uint8Array>;
}

/** Where the first field's name is complete in `bytes`: its start and end, or undefined while it may go on. */
function fieldNameIn(bytes: Uint8Array, ended: boolean): { start: number; end: number } | undefined {
  let start = 0;
  if (BOM.every((byte, i) => bytes[i] === byte)) start = BOM.length;
  while (start < bytes.length && (bytes[start] === LF || bytes[start] === CR)) start++;
  for (let i = start; i < bytes.length; i++) {
    if (bytes[i] === COLON || bytes[i] === LF || bytes[i] === CR || i - start >= LONGEST_FIELD_NAME) return { start, end: i };
  }
  return ended ? { start, end: bytes.length } : undefined;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((size, chunk) => size + chunk.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/**
 * @param abandoned when it aborts before the first field has come (the client left a response answered before it),
 *   the body is cancelled and the reading ends as if the body had.
 */
export async function readSseFieldName(body: ReadableStream<Uint8Array>, abandoned?: AbortSignal): Promise<FirstField> {
  const reader = body.getReader();
  const read: Uint8Array[] = [];
  let ended = false;
  let found: { start: number; end: number } | undefined;
  let bytes: Uint8Array = new Uint8Array(0);
  const abandon = () => void reader.cancel(abandoned?.reason).catch(() => undefined);
  abandoned?.addEventListener("abort", abandon, { once: true });
  try {
    while (!found) {
      const next = await reader.read();
      if (next.done) ended = true;
      else read.push(next.value);
      bytes = read.length === 1 ? read[0]! : concat(read);
      found = fieldNameIn(bytes, ended);
    }
  } finally {
    abandoned?.removeEventListener("abort", abandon);
  }
  const fieldName = found.end > found.start ? new TextDecoder().decode(bytes.subarray(found.start, found.end)) : ended && found.start === bytes.length ? undefined : "";
  const replay = [...read];
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = replay.shift();
      if (chunk) return controller.enqueue(chunk);
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { fieldName, stream };
}
