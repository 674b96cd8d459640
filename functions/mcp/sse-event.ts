/**
 * One Server-Sent Event's text, read as a client reads it: its lines checked to be SSE, its data lines joined and
 * read as JSON the way the gateway reads every message (json-text.ts), and, when the mapper changes the message or
 * the message names a key twice, the event written again with its other fields (id, event, retry, comments) kept in
 * place.
 */
import { readJson } from "./json-text.js";

/** Returned by a mapper to make its message the stream's last event: nothing after it passes, the source is cancelled. */
export class LastEvent {
  constructor(readonly message: unknown) {}
}

/**
 * Returned by a mapper to take an event out of the stream because the gateway delivers what it said another way (the
 * aggregated endpoint merges every server's acknowledgement of a listen into one). Never for hiding a message.
 */
export const MERGED_ELSEWHERE: unique symbol = Symbol("merged elsewhere");

/**
 * Rewrites one parsed message; returns undefined to keep the event exactly as it came, a LastEvent to end the stream
 * with it, MERGED_ELSEWHERE to leave it out, or anything else to replace the event's data.
 */
export type SseMessageMapper = (message: unknown) => unknown;

/** The field names of SSE (WHATWG HTML, server-sent events). */
const SSE_FIELDS: ReadonlySet<string> = new Set(["data", "event", "id", "retry"]);

/**
 * Whether a line (without its line break) is one an SSE parser understands: empty (the end of an event), a comment
 * (`:` first), or a field it knows (`data`, `event`, `id`, `retry`, alone or before a colon). A parser ignores any
 * other line, but a client that sniffs the body may read it as something else, a JSON body for one: so a line that is
 * not SSE makes its event one the gateway cannot vouch for.
 */
export function isSseLine(line: string): boolean {
  if (line === "" || line.startsWith(":")) return true;
  const colon = line.indexOf(":");
  const name = colon === -1 ? line : line.slice(0, colon);
  return SSE_FIELDS.has(name);
}

/** What becomes of one event. */
export type EventOutcome =
  /** Passed exactly as it came. */
  | { kind: "keep" }
  /** Dropped: a line is not SSE, or its data is neither empty nor JSON within MAX_JSON_DEPTH, so it cannot be checked. */
  | { kind: "unreadable" }
  /** Replaced by `text`, with new data. */
  | { kind: "rewritten"; text: string }
  /** Replaced by `text`, which ends the stream. */
  | { kind: "last"; text: string }
  /** Left out: what it says reaches the client in another event (MERGED_ELSEWHERE). */
  | { kind: "merged" };

const KEEP: EventOutcome = { kind: "keep" };
const UNREADABLE: EventOutcome = { kind: "unreadable" };
const LINE_BREAK = /\r\n|\r|\n/;

const isDataLine = (line: string) => line.startsWith("data") && (line.length === 4 || line[4] === ":");

/** A data line's value: after `data:` and one optional space (a slice, not a copy, however long the line). */
const dataValue = (line: string) => line.slice(line.startsWith("data: ") ? 6 : 5);

const isIdLine = (line: string) => line.startsWith("id") && (line.length === 2 || line[2] === ":");

/** An id line's value: after `id:` and one optional space. */
const idValue = (line: string) => line.slice(line.startsWith("id: ") ? 4 : 3);

/**
 * Reads one complete event, its blank line included, and says what to pass on for it.
 * @param mapId rewrites the event's id (`id:` lines), when given; an event with an id is then always written again.
 */
export function rewriteEvent(rawEvent: string, map: SseMessageMapper, mapId?: (id: string) => string): EventOutcome {
  const lines = rawEvent.split(LINE_BREAK);
  if (!lines.every(isSseLine)) return UNREADABLE;
  const newId = mapId && lines.some(isIdLine);
  const dataLines = lines.filter(isDataLine);
  const data = dataLines.length === 0 ? "" : dataLines.length === 1 ? dataValue(dataLines[0] as string) : dataLines.map(dataValue).join("\n");
  let replacement: unknown;
  // Events without data, and priming events (an id with empty data), carry no message.
  if (data.trim() !== "") {
    const reading = readJson(data);
    // A message the gateway cannot read is one it cannot filter: it is dropped, never passed on unchecked.
    if ("problem" in reading) return UNREADABLE;
    // A key named twice is read here as its last occurrence; a client keeping the first would read another message,
    // so the message is written again from what was judged even when the mapper leaves it alone.
    const mapped = map(reading.value);
    replacement = mapped === undefined && reading.duplicateKeys ? reading.value : mapped;
  }
  if (replacement === MERGED_ELSEWHERE) return { kind: "merged" };
  if (replacement === undefined && !newId) return KEEP;
  const last = replacement instanceof LastEvent;
  const out: string[] = [];
  let dataWritten = false;
  // The last two "lines" are the empty ones the event's final line break and blank line leave.
  for (const line of lines.slice(0, -2)) {
    // An empty id resets the client's last event id; it stays what it is.
    if (newId && isIdLine(line) && idValue(line) !== "") out.push(`id: ${mapId(idValue(line))}`);
    else if (!isDataLine(line) || replacement === undefined) out.push(line);
    else if (!dataWritten) {
      out.push(`data: ${JSON.stringify(last ? (replacement as LastEvent).message : replacement)}`);
      dataWritten = true;
    }
  }
  const text = `${out.join("\n")}\n\n`;
  return { kind: last ? "last" : "rewritten", text };
}
