/**
 * The aggregated endpoint's GET stream: every server's own stream, each filtered as that server's
 * (proxy/filtered-response.ts), interleaved event by event into one. The filters pass whole events, so chunks are
 * interleaved as they come; a stream that ends inside an event has that event completed (it was judged as complete),
 * so it never runs into the next server's. The merged stream ends when every server's has; a client closing it
 * closes all. Keep-alive comments go between the merged events. One access-log line, when the merged stream ends.
 * A listen's stream (2026-07-28) is framed by the gateway's own events: one acknowledgement for every server's, first,
 * and one answer, last.
 */
import { AccessLog } from "../http/access-log.js";
import { filteredResponse, type ResponseFiltering } from "../proxy/filtered-response.js";
import type { UpstreamResponse } from "../proxy/upstream.js";
import { withKeepAlive } from "../mcp/sse-keep-alive.js";
import type { BackendServer } from "../servers/backend-server.js";

const NO_LOGGER = { info() {}, warn() {}, error() {} };
const EVENT_END = new TextEncoder().encode("\n\n");

function endsEvent(chunk: Uint8Array | undefined): boolean {
  if (!chunk) return true;
  const n = chunk.length;
  const last = chunk[n - 1];
  const before = chunk[n - 2];
  return n >= 2 && (last === 0x0a || last === 0x0d) && (before === 0x0a || before === 0x0d);
}

/** Events the gateway writes around the merged ones. */
export interface MergedFraming {
  /** The first event's text, once known; no server's event is passed before it. */
  opening: Promise<string | undefined>;
  /** The last event's text, when every server's stream has ended. */
  closing(): string | undefined;
  /** Told when one server's stream has ended. */
  partEnded?(server: string): void;
}

const encoder = new TextEncoder();

/**
 * @param filtering each server's filtering, given the sub-log its figures are counted in (added to `log` at the end).
 * @param framing the gateway's own first and last events, if any.
 */
export async function mergeEventStreams(
  streams: ReadonlyArray<{ server: BackendServer; upstream: UpstreamResponse }>,
  log: AccessLog,
  filtering: (server: string, log: AccessLog) => ResponseFiltering,
  keepAliveMs: number,
  framing?: MergedFraming,
): Promise<Response> {
  const parts = await Promise.all(
    streams.map(async ({ server, upstream }) => {
      const partLog = new AccessLog(NO_LOGGER, { method: "GET", url: log.url?.href ?? "http://gateway/", headers: new Headers() });
      const response = await filteredResponse(upstream, filtering(server.name, partLog));
      return { server: server.name, partLog, reader: (response.body as ReadableStream<Uint8Array>).getReader() };
    }),
  );
  let open = parts.length;
  const finish = () => {
    for (const { partLog } of parts) {
      log.countRemoved(partLog.entry.listItemsRemoved ?? 0);
      if (partLog.entry.reason) log.entry.reason = `${log.entry.reason ? `${log.entry.reason}; ` : ""}${partLog.entry.reason}`;
    }
    log.write(200);
  };
  const merged = new ReadableStream<Uint8Array>({
    start(controller) {
      // Every part is read from the start (its filter runs as it is read), but nothing of it passes the opening.
      const opened = (framing?.opening ?? Promise.resolve(undefined)).then((text) => {
        if (text) controller.enqueue(encoder.encode(text));
      });
      for (const part of parts) {
        void (async () => {
          let last: Uint8Array | undefined;
          try {
            for (;;) {
              const { value, done } = await part.reader.read();
              if (done) break;
              last = value;
              await opened;
              controller.enqueue(value);
            }
            if (!endsEvent(last)) controller.enqueue(EVENT_END);
          } catch {
            // A client that closed the stream cancelled every part; nothing is left to deliver.
          } finally {
            framing?.partEnded?.(part.server);
            open--;
            if (open === 0) {
              finish();
              try {
                await opened;
                const closing = framing?.closing();
                if (closing) controller.enqueue(encoder.encode(closing));
                controller.close();
              } catch {
                // Already cancelled by the client.
              }
            }
          }
        })();
      }
    },
    async cancel(reason) {
      await Promise.all(parts.map((part) => part.reader.cancel(reason).catch(() => undefined)));
    },
  });
  return new Response(withKeepAlive(merged, { intervalMs: keepAliveMs, opensWithComment: false }), {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
  });
}
