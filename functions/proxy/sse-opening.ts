/**
 * When a POST's event stream is answered to the client. A body labelled `text/event-stream` must show itself as SSE
 * (its first field, sse-first-field.ts) before the client reads any of it, so a JSON body mislabelled as a stream is
 * refused with 502 rather than sniffed by a client as JSON, unfiltered.
 *
 * A backend may take long to send its first field: a tool that works for minutes and sends its answer only at the
 * end, with no priming event. A front door that cuts silent responses (CloudFront after 60 s) would cut that call
 * before the client had even its status. So the gateway waits for the first field at most one keep-alive interval;
 * then it answers, its body opening with its own SSE comment (sse-keep-alive.ts), and judges the first field when it
 * comes: a first line that is no SSE field then ends the stream, with none of the backend's bytes passed on. A client
 * that sniffs reads a comment first, never the backend's JSON; only the status differs (200, with a final error
 * event, instead of 502).
 */
import { UpstreamError } from "../errors.js";
import { isSseLine } from "../mcp/sse.js";
import { readSseFieldName, type FirstField } from "./sse-first-field.js";

export interface EventStreamOpening {
  /** The backend's body, whole: the bytes read to see its first field are replayed. */
  stream: ReadableStream<Uint8Array>;
  /**
   * True when the client is answered before the backend's first field came: the client's body must then open with
   * the gateway's comment. `stream` ends without passing anything if that field proves no SSE field.
   */
  answeredEarly: boolean;
}

/** Why a first field shows the body is no event stream; undefined when it is one (or the body is empty). */
function notEventStream(first: FirstField): string | undefined {
  if (first.fieldName === undefined || isSseLine(first.fieldName)) return undefined;
  return `backend labelled its answer text/event-stream, but its first line is not an SSE field (${JSON.stringify(first.fieldName.slice(0, 40))})`;
}

/** The reading of the first field, if it comes within `waitMs`. */
function firstFieldWithin(reading: Promise<FirstField>, waitMs: number): Promise<FirstField | undefined> {
  let waited: () => void = () => undefined;
  const silence = new Promise<undefined>((resolve) => {
    waited = () => resolve(undefined);
  });
  const timer = setTimeout(() => waited(), waitMs);
  // The backend's response keeps the process busy while it is awaited; this timer must not keep it alive alone.
  timer.unref();
  return Promise.race([reading, silence]).finally(() => clearTimeout(timer));
}

/**
 * The backend's body, judged by its first field within `waitMs` (then refused with UpstreamError when it is no SSE
 * field), or answered early and judged when its first field comes (then `onLateRefusal` is told why, and the stream
 * ends there, the backend's body cancelled).
 * @param waitMs how long the first field is awaited before the client is answered anyway; 0: as long as it takes.
 */
export async function openEventStream(
  body: ReadableStream<Uint8Array>,
  waitMs: number,
  onLateRefusal: (reason: string) => void,
): Promise<EventStreamOpening> {
  const abandoned = new AbortController();
  const reading = readSseFieldName(body, abandoned.signal);
  const first = waitMs > 0 ? await firstFieldWithin(reading, waitMs) : await reading;
  if (first) {
    const problem = notEventStream(first);
    if (problem) {
      await first.stream.cancel();
      throw new UpstreamError(problem);
    }
    return { stream: first.stream, answeredEarly: false };
  }
  // Nobody may await the reading (a client that leaves at once): its failure is then the stream's, never unhandled.
  reading.catch(() => undefined);
  let source: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!source) {
        const late = await reading;
        if (abandoned.signal.aborted) return;
        const problem = notEventStream(late);
        if (problem) {
          onLateRefusal(problem);
          await late.stream.cancel();
          controller.close();
          return;
        }
        source = late.stream.getReader();
      }
      const next = await source.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel(reason) {
      if (source) return source.cancel(reason);
      // Still waiting for the first field: the backend's body is cancelled now, not when (if ever) it comes.
      abandoned.abort(reason);
      return undefined;
    },
  });
  return { stream, answeredEarly: true };
}
