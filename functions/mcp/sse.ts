/**
 * Filters a Server-Sent Events stream event by event, as it flows, in time and memory linear in the stream's size.
 *
 * Events are split at blank lines (any of CRLF, LF, CR line endings, across chunk boundaries; sse-event-splitter.ts).
 * An event whose data is a JSON message that the mapper changes (or that names a key twice) is re-emitted with its
 * other fields (id, event, retry, comments) kept in place and its data replaced; every other event, priming events
 * with empty data included, is passed on byte for byte. An SSE parsing library would hand over parsed fields only,
 * which cannot promise that. What the gateway cannot vouch for is dropped and reported: an event whose data is not
 * JSON (or nests too deeply), or with a line that is not SSE (sse-event.ts). An event larger than the largest allowed
 * ends the stream.
 */
import { SseEventSplitter } from "./sse-event-splitter.js";
import { rewriteEvent, type EventOutcome, type SseMessageMapper } from "./sse-event.js";

export { LastEvent, MERGED_ELSEWHERE, isSseLine, type SseMessageMapper } from "./sse-event.js";

export interface SseFilterOptions {
  /**
   * The largest event passed, in UTF-8 bytes of the event as it came (its lines, their line breaks and its blank
   * line); default: no limit. An event larger than this is not buffered further, nor waited for: as soon as more
   * than this of it has come, the stream ends (after the final event `onOversized` returns, if any) and the source is
   * cancelled. Events before it pass as usual.
   */
  maxEventBytes?: number;
  /**
   * Called once, when an event is larger than `maxEventBytes`; returns the text of a last event to end the stream
   * with (written as it is, so complete with its blank line), or undefined to end it without one.
   */
  onOversized?: () => string | undefined;
  /**
   * Rewrites every event's id (its `id:` lines; empty ids stay): the aggregated endpoint's ids name the server, so a
   * client resuming with `Last-Event-ID` is sent back to it. Default: ids pass as they came.
   */
  mapEventId?: (id: string) => string;
}

const BYTE_ORDER_MARK = "\uFEFF";

/**
 * An event's text. Its bytes are passed on as they came only when they are exactly that text in UTF-8; otherwise
 * (bytes that are not UTF-8, or the byte order mark a stream may start with, which clients drop too) the text itself
 * is passed on, encoded again, so what the client reads is what was judged.
 */
interface DecodedEvent {
  text: string;
  exact: boolean;
}

/**
 * A byte stream transform applying `map` to every event's JSON data. Events that cannot be checked (a line that is
 * not SSE, data that is not JSON within MAX_JSON_DEPTH) are dropped and reported to `onUnreadable`.
 */
export function createSseFilter(
  map: SseMessageMapper,
  onUnreadable: () => void = () => undefined,
  options: SseFilterOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const splitter = new SseEventSplitter(options.maxEventBytes);
  const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const lenientDecoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const encoder = new TextEncoder();
  let atStreamStart = true;
  let ended = false;
  // Whether the last event passed as it came: only then does the LF completing its CRLF, split off into the next
  // chunk, belong in the stream (splitter.takeCrHalf).
  let lastPassedAsCame = true;

  const decode = (bytes: Uint8Array): DecodedEvent => {
    let decoded: DecodedEvent;
    try {
      decoded = { text: strictDecoder.decode(bytes), exact: true };
    } catch {
      decoded = { text: lenientDecoder.decode(bytes), exact: false };
    }
    if (atStreamStart && decoded.text.startsWith(BYTE_ORDER_MARK)) decoded = { text: decoded.text.slice(1), exact: false };
    atStreamStart = false;
    return decoded;
  };

  const end = (controller: TransformStreamDefaultController<Uint8Array>, lastText: string | undefined) => {
    if (lastText) controller.enqueue(encoder.encode(lastText));
    ended = true;
    // Terminating closes the client's side and errors the writable side, which cancels the source when piped.
    controller.terminate();
  };

  /** Passes on what `outcome` says for an event; `kept` is what passes when it is kept as it came. */
  const emit = (controller: TransformStreamDefaultController<Uint8Array>, outcome: EventOutcome, kept: () => Uint8Array) => {
    lastPassedAsCame = outcome.kind === "keep";
    if (outcome.kind === "keep") {
      const bytes = kept();
      if (bytes.length > 0) controller.enqueue(bytes);
    } else if (outcome.kind === "unreadable") onUnreadable();
    else if (outcome.kind === "rewritten") controller.enqueue(encoder.encode(outcome.text));
    else if (outcome.kind === "last") end(controller, outcome.text);
  };

  return new TransformStream({
    transform(chunk, controller) {
      if (ended) return;
      for (const splitEvent of splitter.events(chunk)) {
        const rawEvent = splitter.takeCrHalf() && !lastPassedAsCame ? splitEvent.subarray(1) : splitEvent;
        const event = decode(rawEvent);
        emit(controller, rewriteEvent(event.text, map, options.mapEventId), () => (event.exact ? rawEvent : encoder.encode(event.text)));
        if (ended) return;
      }
      if (splitter.oversized) end(controller, options.onOversized?.());
    },
    flush(controller) {
      if (ended) return;
      const unterminated = splitter.unterminated();
      const rest = splitter.takeCrHalf() && !lastPassedAsCame ? unterminated.subarray(1) : unterminated;
      if (rest.length === 0) return;
      // An unterminated last event is never dispatched by clients. It is still filtered, and passed on unterminated
      // (as it came when unchanged), so the gateway never completes an event the backend did not.
      const event = decode(rest);
      const outcome = rewriteEvent(`${event.text}\n\n`, map, options.mapEventId);
      const kept = () => (event.exact ? rest : encoder.encode(event.text));
      // Without its final line break, a rewritten event cannot be completed, whatever line breaks the original had;
      // but an event the gateway ends the stream with is its own, and complete.
      if (outcome.kind === "rewritten") emit(controller, { kind: "rewritten", text: withoutTrailingLineBreaks(outcome.text) }, kept);
      else emit(controller, outcome, kept);
    },
  });
}

function withoutTrailingLineBreaks(text: string): string {
  let end = text.length;
  while (end > 0 && (text[end - 1] === "\n" || text[end - 1] === "\r")) end--;
  return text.slice(0, end);
}
