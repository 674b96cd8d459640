/**
 * Filters a Server-Sent Events stream event by event, as it flows.
 *
 * Events are split at blank lines (any of CRLF, LF, CR line endings, across chunk boundaries). An event whose data
 * is a JSON message that the mapper changes is re-emitted with its other fields (id, event, retry, comments) kept in
 * place and its data replaced; every other event, priming events with empty data included, is passed on byte for
 * byte. An SSE parsing library would hand over parsed fields only, which cannot promise that.
 */

/** Returned by a mapper to make its message the stream's last event: nothing after it passes, the source is cancelled. */
export class LastEvent {
  constructor(readonly message: unknown) {}
}

/**
 * Rewrites one parsed message; returns undefined to keep the event exactly as it came, a LastEvent to end the stream
 * with it, or anything else to replace the event's data.
 */
export type SseMessageMapper = (message: unknown) => unknown;

/** Marks an event to drop: its data is neither empty nor JSON, so it cannot be checked. */
const UNREADABLE = Symbol("unreadable");

const LINE_BREAK = /\r\n|\r|\n/;

/** An event that ends the stream. */
interface Ending {
  last: string;
}

function rewriteEvent(rawEvent: string, map: SseMessageMapper): string | typeof UNREADABLE | Ending {
  const lines = rawEvent.split(LINE_BREAK);
  const dataLines = lines.filter((line) => line === "data" || line.startsWith("data:"));
  if (dataLines.length === 0) return rawEvent;
  const data = dataLines.map((line) => line.slice(5).replace(/^ /, "")).join("\n");
  // Priming events (an id with empty data) carry no message and pass as they are.
  if (data.trim() === "") return rawEvent;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    // A message the gateway cannot read is one it cannot filter: it is dropped, never passed on unchecked.
    return UNREADABLE;
  }
  const replacement = map(message);
  if (replacement === undefined) return rawEvent;
  const last = replacement instanceof LastEvent;
  const out: string[] = [];
  let dataWritten = false;
  for (const line of lines.slice(0, -2)) {
    if (line === "data" || line.startsWith("data:")) {
      if (!dataWritten) out.push(`data: ${JSON.stringify(last ? replacement.message : replacement)}`);
      dataWritten = true;
    } else {
      out.push(line);
    }
  }
  const text = `${out.join("\n")}\n\n`;
  return last ? { last: text } : text;
}

/**
 * Finds the end of the first complete event in `buffer`: the index just past its blank line, or -1. A CR at the very
 * end of the buffer may be the first half of a CRLF, so it does not end a non-empty line until more text arrives; a
 * CR that is itself the blank line ends the event at once (an LF after it is then an empty line of its own, which
 * SSE ignores), so events of a CR-only stream are not held back until the next one arrives.
 */
function endOfFirstEvent(buffer: string): number {
  let lineStart = 0;
  for (let i = 0; i < buffer.length; i++) {
    const ch = buffer[i];
    if (ch !== "\n" && ch !== "\r") continue;
    if (ch === "\r" && i === buffer.length - 1) return i === lineStart ? i + 1 : -1;
    const lineEnd = ch === "\r" && buffer[i + 1] === "\n" ? i + 2 : i + 1;
    if (i === lineStart) return lineEnd;
    lineStart = lineEnd;
    i = lineEnd - 1;
  }
  return -1;
}

/**
 * A byte stream transform applying `map` to every event's JSON data. Events whose data is not JSON are dropped and
 * reported to `onUnreadable`.
 */
export function createSseFilter(map: SseMessageMapper, onUnreadable: () => void = () => undefined): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffer = "";
  let ended = false;
  const emit = (controller: TransformStreamDefaultController<Uint8Array>, text: string | typeof UNREADABLE | Ending) => {
    if (text === UNREADABLE) onUnreadable();
    else if (typeof text !== "string") {
      controller.enqueue(encoder.encode(text.last));
      ended = true;
      controller.terminate();
    } else if (text.length > 0) controller.enqueue(encoder.encode(text));
  };
  const drain = (controller: TransformStreamDefaultController<Uint8Array>) => {
    for (let end = endOfFirstEvent(buffer); end !== -1 && !ended; end = endOfFirstEvent(buffer)) {
      emit(controller, rewriteEvent(buffer.slice(0, end), map));
      buffer = buffer.slice(end);
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      if (ended) return;
      buffer += decoder.decode(chunk, { stream: true });
      drain(controller);
    },
    flush(controller) {
      buffer += decoder.decode();
      if (buffer.length === 0 || ended) return;
      // An unterminated last event is never dispatched by clients. It is still filtered, and passed on unterminated
      // (as it came when unchanged), so the gateway never completes an event the backend did not.
      const complete = `${buffer}\n\n`;
      const rewritten = rewriteEvent(complete, map);
      if (rewritten === complete) emit(controller, buffer);
      // Without its final line break, a rewritten event cannot be completed, whatever line breaks the original had;
      // but an event the gateway ends the stream with is its own, and complete.
      else emit(controller, typeof rewritten === "string" ? rewritten.replace(/[\r\n]+$/, "") : rewritten);
    },
  });
}
