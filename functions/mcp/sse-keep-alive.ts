/**
 * Keeps an event stream from falling silent: whenever nothing has been written for an interval, an SSE comment line
 * (`: keep-alive` and its blank line) is written. Every SSE parser ignores a line that starts with a colon (WHATWG
 * HTML, "Interpreting an event stream"), so clients see nothing of it; but front doors that cut a response when no
 * bytes arrive for a while (CloudFront after its origin response timeout, load balancers, proxies) see bytes, and
 * keep the stream open while a tool works in silence.
 *
 * A comment is only ever written between events: before anything else, or after a chunk that ends with a blank line.
 * The stream given passes whole events (the SSE filter's output), so in practice that is after every chunk but an
 * unterminated last one; the check keeps it so however the stream is chunked. None is written while the reader has
 * not taken the last chunk (the connection is then busy, not silent). The timer ends with the stream (finished,
 * failed or cancelled by the reader), and never holds the process open by itself.
 */

/** What is written into a silent stream. */
export const KEEP_ALIVE_COMMENT = ": keep-alive\n\n";

const COMMENT_BYTES = new TextEncoder().encode(KEEP_ALIVE_COMMENT);
const LF = 0x0a;
const CR = 0x0d;

export interface KeepAliveOptions {
  /** Milliseconds without a byte written after which a comment is written. 0: none; the stream is returned as it is. */
  intervalMs: number;
  /**
   * Write a comment first, before anything of the stream: the client is answered because the stream was already
   * silent for an interval (a POST whose backend has not sent its first field yet). Default false.
   */
  opensWithComment?: boolean;
}

const isLineBreak = (byte: number | undefined) => byte === LF || byte === CR;

/**
 * Whether a reader is between events once `chunk` follows what came before: the chunk's last line is a blank one.
 * A chunk of line breaks only leaves the reader where it was (a blank line between events, or the LF of a CRLF), or
 * is taken not to be between events: in doubt, no comment.
 * @param before whether the reader was between events before `chunk`.
 */
export function betweenEventsAfter(chunk: Uint8Array, before: boolean): boolean {
  let end = chunk.length;
  if (end === 0) return before;
  if (!isLineBreak(chunk[end - 1])) return false;
  // The chunk's last line break: a CRLF counts once.
  end -= chunk[end - 1] === LF && chunk[end - 2] === CR ? 2 : 1;
  if (end === 0) return before;
  return isLineBreak(chunk[end - 1]);
}

/** The stream, with a comment written into every silence of `intervalMs`. */
export function withKeepAlive(stream: ReadableStream<Uint8Array>, options: KeepAliveOptions): ReadableStream<Uint8Array> {
  const { intervalMs } = options;
  if (intervalMs <= 0) return stream;
  const reader = stream.getReader();
  let lastWriteAt = performance.now();
  let betweenEvents = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let over = false;

  const stop = () => {
    over = true;
    clearTimeout(timer);
  };

  const schedule = (controller: ReadableStreamDefaultController<Uint8Array>, delayMs: number) => {
    timer = setTimeout(() => tick(controller), delayMs);
    // The response's own I/O keeps the process busy while it lasts; this timer must never keep it alive alone.
    timer.unref();
  };

  const tick = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (over) return;
    const silentMs = performance.now() - lastWriteAt;
    // Written to meanwhile: the silence to wait for is counted from that write (one timer, not one per chunk).
    if (silentMs < intervalMs) return schedule(controller, intervalMs - silentMs);
    if (betweenEvents && (controller.desiredSize ?? 0) > 0) {
      controller.enqueue(COMMENT_BYTES);
      lastWriteAt = performance.now();
    }
    schedule(controller, intervalMs);
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (options.opensWithComment) controller.enqueue(COMMENT_BYTES);
      schedule(controller, intervalMs);
    },
    async pull(controller) {
      try {
        const next = await reader.read();
        // Cancelled meanwhile: the stream is closed already.
        if (over) return;
        if (next.done) {
          stop();
          controller.close();
          return;
        }
        betweenEvents = betweenEventsAfter(next.value, betweenEvents);
        lastWriteAt = performance.now();
        controller.enqueue(next.value);
      } catch (err) {
        stop();
        controller.error(err);
      }
    },
    cancel(reason) {
      stop();
      return reader.cancel(reason);
    },
  });
}
