/**
 * Where a place of a YAML or JSON document is in its text (line and column, from 1), for messages about policy
 * documents and test files: `rules[0]` is at line 4, column 3, and a problem at offset 9 of that CEL string is at
 * column 12. Worked out from js-yaml's event stream only when a message needs it, never when a document loads.
 */
import { getScalarValue, parseEvents, type Event, type ScalarEvent } from "js-yaml";

export interface SourcePosition {
  line: number;
  column: number;
}

/** A place in a document: the path to a value (keys and list indexes); `key`: the mapping key itself, not its value. */
export interface DocumentPlace {
  path: ReadonlyArray<PropertyKey>;
  key?: boolean;
  /** An offset into the value's text (a CEL string), for a scalar whose text is its value as written. */
  offset?: number;
}

const SEQUENCE = 2;
const MAPPING = 3;
const SCALAR = 4;
const POP = 6;

/** Line and column of an offset into `text`. */
export function positionAt(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let at = text.indexOf("\n"); at >= 0 && at < offset; at = text.indexOf("\n", at + 1)) {
    line++;
    lineStart = at + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/** Where an event's node starts in the text. */
function startOf(event: Event): number {
  return event.type === SCALAR ? (event as ScalarEvent).valueStart : "start" in event ? event.start : -1;
}

/**
 * The index just past the node starting at `events[index]` (a scalar or alias is one event; a collection runs to its
 * closing pop).
 */
function skip(events: readonly Event[], index: number): number {
  const type = events[index]!.type;
  if (type !== SEQUENCE && type !== MAPPING) return index + 1;
  let at = index + 1;
  while (events[at]!.type !== POP) at = skip(events, at);
  return at + 1;
}

/** The offset in `text` of a place, or undefined when the text has no such place (or does not parse). */
function offsetOf(text: string, place: DocumentPlace): number | undefined {
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return undefined;
  }
  // The document's root node follows the document event.
  let at = 1;
  let keyEvent: Event | undefined;
  for (const step of place.path) {
    const container = events[at];
    if (container === undefined) return undefined;
    let child = at + 1;
    keyEvent = undefined;
    if (container.type === SEQUENCE && typeof step === "number") {
      for (let i = 0; i < step && events[child]?.type !== POP; i++) child = skip(events, child);
    } else if (container.type === MAPPING) {
      while (events[child]?.type !== POP) {
        const key = events[child]!;
        if (key.type === SCALAR && getScalarValue(text, key as ScalarEvent) === String(step)) {
          keyEvent = key;
          child = skip(events, child);
          break;
        }
        child = skip(events, skip(events, child));
      }
    } else return undefined;
    if (events[child] === undefined || events[child]!.type === POP) return undefined;
    at = child;
  }
  const target = place.key && keyEvent ? keyEvent : events[at];
  if (target === undefined) return undefined;
  const start = startOf(target);
  if (start < 0) return undefined;
  if (place.offset === undefined || place.key || target.type !== SCALAR) return start;
  return offsetInScalar(text, target as ScalarEvent, place.offset) ?? start;
}

const SINGLE_QUOTED = 2;
const DOUBLE_QUOTED = 3;
const LITERAL_BLOCK = 4;
const FOLDED_BLOCK = 5;

/** How many characters of source a double-quoted escape takes (`\x41` is 4); it stands for one character. */
function escapeLength(text: string, at: number): number {
  const kind = text[at + 1];
  return kind === "x" ? 4 : kind === "u" ? 6 : kind === "U" ? 10 : 2;
}

/**
 * The source offset of the character at `offset` in a scalar's value: exact for a scalar written as its value, a
 * quoted one on one line (escapes counted) and a block scalar (indentation skipped); undefined otherwise (a quoted or
 * plain scalar folded over lines, whose line breaks the value does not keep one for one).
 */
function offsetInScalar(text: string, scalar: ScalarEvent, offset: number): number | undefined {
  if (scalar.fast) return scalar.valueStart + offset;
  let at = scalar.valueStart;
  if (scalar.style === SINGLE_QUOTED || scalar.style === DOUBLE_QUOTED) {
    for (let decoded = 0; decoded < offset; decoded++) {
      if (at >= scalar.valueEnd || text[at] === "\n") return undefined;
      if (scalar.style === SINGLE_QUOTED) at += text.startsWith("''", at) ? 2 : 1;
      else if (text[at] === "\\") {
        if (text[at + 1] === "\n" || text[at + 1] === "\r") return undefined;
        at += escapeLength(text, at);
      } else at++;
    }
    return at;
  }
  if (scalar.style === LITERAL_BLOCK || scalar.style === FOLDED_BLOCK) {
    const indent = Math.max(scalar.indent, 0);
    let decoded = 0;
    let lineStart = true;
    while (at < scalar.valueEnd) {
      if (lineStart) {
        for (let skipped = 0; skipped < indent && text[at] === " "; skipped++) at++;
        lineStart = false;
      }
      if (decoded === offset) return at;
      lineStart = text[at] === "\n";
      at++;
      decoded++;
    }
  }
  return undefined;
}

/** The line and column of a place in a document's text, or undefined when it cannot be told. */
export function locate(text: string, place: DocumentPlace): SourcePosition | undefined {
  const offset = offsetOf(text, place);
  return offset === undefined ? undefined : positionAt(text, offset);
}

/** ` (line 4, column 12)`, or nothing when the position is not known: appended to a message. */
export function atPosition(position: SourcePosition | undefined): string {
  return position ? ` (line ${position.line}, column ${position.column})` : "";
}
