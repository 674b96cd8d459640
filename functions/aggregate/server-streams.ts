/**
 * GET and DELETE on the aggregated endpoint. A GET opens every server's stream and merges them (merged-streams.ts);
 * with a `Last-Event-ID` the gateway wrote, it resumes that server's stream alone (forwarding.ts). Servers without a
 * stream (405) are left out; with none at all, the answer is 405. A DELETE ends the session on every server.
 */
import { ProtocolError } from "../errors.js";
import { RpcCode } from "../mcp/jsonrpc.js";
import { answersWithEventStream, forwardToBackend, type UpstreamResponse } from "../proxy/upstream.js";
import type { BackendServer } from "../servers/backend-server.js";
import type { AggregateCall } from "./aggregate-call.js";
import { resume } from "./forwarding.js";
import { mergeEventStreams } from "./merged-streams.js";
import { eventIdOrigin } from "./server-request-ids.js";

/** Headers no server's GET or DELETE gets from the client: another server's event id, and routing headers. */
const NOT_FOR_EVERY_SERVER = ["last-event-id", "mcp-name", "mcp-method"];

type Opened = { server: BackendServer; upstream: UpstreamResponse } | { server: BackendServer; failed: string };

const isStream = (o: Opened): o is { server: BackendServer; upstream: UpstreamResponse } => "upstream" in o && answersWithEventStream(o.upstream);

export async function openStreams(call: AggregateCall): Promise<Response> {
  const { req } = call;
  const lastEventId = req.request.headers.get("last-event-id");
  const origin = lastEventId === null ? undefined : eventIdOrigin(lastEventId, call.ctx.names);
  const resumed = origin && call.participant(origin.server);
  if (origin && resumed) return resume(call, resumed, origin.id);
  // An id the gateway did not write resumes nothing: the client gets the merged stream from now on.
  const opened = await Promise.all(
    call.participants().map(async (server): Promise<Opened> => {
      try {
        return { server, upstream: await forwardToBackend(req.request, undefined, server.config, await call.headersFor(server), NOT_FOR_EVERY_SERVER) };
      } catch (err) {
        return { server, failed: (err as Error).message };
      }
    }),
  );
  const streams = opened.filter(isStream);
  for (const o of opened) {
    if (isStream(o) || !("upstream" in o)) continue;
    const { upstream } = o as { upstream: UpstreamResponse };
    upstream.stopTimer();
    await upstream.response.body?.cancel();
  }
  if (streams.length === 0) throw new ProtocolError(405, RpcCode.InvalidRequest, "Method not allowed", "no server of the aggregated endpoint offers a stream");
  return mergeEventStreams(streams, req.log, (server, log) => call.filtering(server, log, { keepAliveMs: 0 }), call.ctx.options.keepAliveMs);
}

export async function endSession(call: AggregateCall): Promise<Response> {
  const { req } = call;
  await Promise.all(
    call.participants().map(async (server) => {
      try {
        const upstream = await forwardToBackend(req.request, undefined, server.config, await call.headersFor(server), NOT_FOR_EVERY_SERVER);
        upstream.stopTimer();
        await upstream.response.body?.cancel();
      } catch {
        // A server that cannot be told keeps its session until it expires it; the client's session ends regardless.
      }
    }),
  );
  req.log.entry.decision = "allowed";
  req.log.write(200);
  return new Response(null, { status: 200 });
}
