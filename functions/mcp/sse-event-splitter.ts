/**
 * Cuts a Server-Sent Events byte stream into raw events, in time and memory linear in the stream's size.
 *
 * An event ends at a blank line; lines end with CRLF, LF or CR, and a line break may be split across chunks. Line
 * breaks are found in the bytes with native `indexOf` (in UTF-8 they never occur inside a multi-byte character), so
 * a byte is never scanned again once passed, however the event is chunked; the bytes of an event still under way are
 * held as the chunks they came in and joined once, when it completes. Nothing is decoded here: an event's bytes are
 * handed on as they came.
 */

const LF = 0x0a;
const CR = 0x0d;

function joined(pieces: readonly Uint8Array[], length: number): Uint8Array {
  if (pieces.length === 1) return pieces[0] as Uint8Array;
  const all = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    all.set(piece, offset);
    offset += piece.length;
  }
  return all;
}

export class SseEventSplitter {
  /** The bytes of the event under way, from earlier chunks. */
  private held: Uint8Array[] = [];
  private heldBytes = 0;
  /** The line under way already has bytes, from earlier chunks. */
  private lineOpen = false;
  /**
   * The last chunk ended with a CR: an LF opening the next chunk is the rest of that CRLF, not a line of its own. It
   * is passed on with whatever follows it.
   */
  private afterCr = false;
  /** The next event handed out opens with such an LF (see takeCrHalf). */
  private crHalfAhead = false;
  private tooLarge = false;

  /** @param maxEventBytes the largest event accepted, in bytes, its blank line included. */
  constructor(private readonly maxEventBytes = Number.POSITIVE_INFINITY) {}

  /**
   * True once an event grew larger than `maxEventBytes`: nothing of it is held, and the splitter is done. The event is
   * not waited for: it is found too large as soon as the bytes that came of it are.
   */
  get oversized(): boolean {
    return this.tooLarge;
  }

  /**
   * The complete events `chunk` ends, in order, each with its blank line; the rest of the chunk is held for the next
   * one. Stops early, with `oversized` set, at an event too large.
   */
  *events(chunk: Uint8Array): Generator<Uint8Array> {
    if (this.tooLarge || chunk.length === 0) return;
    let position = 0;
    if (this.afterCr) {
      this.afterCr = false;
      if (chunk[0] === LF) {
        position = 1;
        // With nothing held, that CR ended an event: the LF opens the next one's bytes. (Held, it is inside one.)
        this.crHalfAhead = this.heldBytes === 0;
      }
    }
    let eventStart = 0;
    let lineStart = position;
    // The next LF and the next CR, each searched for again only once passed: every byte is scanned at most once for
    // each, however many lines the chunk holds.
    let nextLf = chunk.indexOf(LF, position);
    let nextCr = chunk.indexOf(CR, position);
    while (nextLf !== -1 || nextCr !== -1) {
      const atCr = nextCr !== -1 && (nextLf === -1 || nextCr < nextLf);
      const lineEnd = atCr ? nextCr : nextLf;
      const blankLine = lineEnd === lineStart && !this.lineOpen;
      let breakEnd = lineEnd + 1;
      if (atCr) {
        // A CR that ends the chunk may be the first half of a CRLF whose LF is still to come; the line (or, for a
        // blank line, the event) ends at the CR all the same: with CR line endings an event must not wait for the
        // next chunk (on a GET stream, possibly for ever).
        if (breakEnd === chunk.length) this.afterCr = true;
        else if (chunk[breakEnd] === LF) breakEnd++;
      }
      this.lineOpen = false;
      lineStart = breakEnd;
      if (nextLf !== -1 && nextLf < breakEnd) nextLf = chunk.indexOf(LF, breakEnd);
      if (nextCr !== -1 && nextCr < breakEnd) nextCr = chunk.indexOf(CR, breakEnd);
      if (!blankLine) continue;
      const size = this.heldBytes + breakEnd - eventStart;
      if (size > this.maxEventBytes) return this.giveUp();
      yield joined([...this.held, chunk.subarray(eventStart, breakEnd)], size);
      this.held = [];
      this.heldBytes = 0;
      eventStart = breakEnd;
    }
    if (eventStart === chunk.length) return;
    if (this.heldBytes + chunk.length - eventStart > this.maxEventBytes) return this.giveUp();
    this.held.push(chunk.subarray(eventStart));
    this.heldBytes += chunk.length - eventStart;
    if (lineStart < chunk.length) this.lineOpen = true;
  }

  /**
   * Whether the event just handed out (or the unterminated rest) opens with the LF of a CRLF whose CR ended the event
   * before it, across chunks; asked once per event. Whoever writes that earlier event anew must drop the LF, or it
   * would stand as a line of its own.
   */
  takeCrHalf(): boolean {
    const ahead = this.crHalfAhead;
    this.crHalfAhead = false;
    return ahead;
  }

  /** The bytes of an event the stream ended before its blank line (empty if none), once the stream has ended. */
  unterminated(): Uint8Array {
    const rest = joined(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    return rest;
  }

  private giveUp(): void {
    this.tooLarge = true;
    this.held = [];
    this.heldBytes = 0;
  }
}
