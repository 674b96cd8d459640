/**
 * `subscriptions/listen` (2026-07-28) on the aggregated endpoint. Each resource it names goes to its owner
 * (routing.ts) and is judged as that server's; one the caller may not read, or no server owns, refuses the whole
 * listen before any server is asked. List-changed kinds go to every server. The servers' streams are merged
 * (merged-streams.ts): their acknowledgements made one, sent first, once every server has acknowledged (or ended, or
 * its timeout passed), naming the subscription by the listen's id as each server does; their answers made one, sent
 * last.
 */
import { authorizeBody, refusalResponse } from "../core/authorize-messages.js";
import { UpstreamError } from "../errors.js";
import type { JsonRpcMessage } from "../mcp/jsonrpc.js";
import { MERGED_ELSEWHERE } from "../mcp/sse.js";
import { answersWithEventStream, forwardToBackend, type UpstreamResponse } from "../proxy/upstream.js";
import type { BackendServer } from "../servers/backend-server.js";
import { isObject, withParams, type AggregateCall } from "./aggregate-call.js";
import { mergeEventStreams } from "./merged-streams.js";
import { refuseUnknown, resourceLookup } from "./routing.js";

/** The list-changed kinds a listen may ask every server for. */
const LISTEN_FLAGS = ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] as const;
const ACKNOWLEDGED = "notifications/subscriptions/acknowledged";

const eventOf = (message: unknown) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

/** The client's acknowledgement: what any server honoured, its resources in the client's order. */
function mergedAcknowledgement(listen: JsonRpcMessage, uris: readonly string[], acknowledged: Iterable<Record<string, unknown>>): string {
  const merged: Record<string, unknown> = {};
  const honouredUris = new Set<unknown>();
  for (const honoured of acknowledged) {
    for (const flag of LISTEN_FLAGS) if (honoured[flag] === true) merged[flag] = true;
    if (Array.isArray(honoured.resourceSubscriptions)) for (const uri of honoured.resourceSubscriptions) honouredUris.add(uri);
  }
  if (honouredUris.size > 0) merged.resourceSubscriptions = uris.filter((uri) => honouredUris.has(uri));
  const meta = { "io.modelcontextprotocol/subscriptionId": listen.id };
  return eventOf({ jsonrpc: "2.0", method: ACKNOWLEDGED, params: { notifications: merged, _meta: meta } });
}

/** The listen each server is sent: the list-changed kinds asked for, and the resources it owns. */
async function listensByServer(call: AggregateCall, message: JsonRpcMessage, uris: readonly string[]): Promise<Map<BackendServer, JsonRpcMessage> | Response> {
  const params = message.params as Record<string, unknown>;
  const wanted = params.notifications as Record<string, unknown>;
  const owned = new Map<string, string[]>();
  if (uris.length > 0) {
    const ownerOf = await resourceLookup(call);
    for (const uri of uris) {
      const owner = ownerOf(uri);
      if (owner === undefined) return refuseUnknown(call, message, { kind: "resource", name: uri });
      owned.set(owner, [...(owned.get(owner) ?? []), uri]);
    }
  }
  const flags = Object.fromEntries(LISTEN_FLAGS.filter((flag) => wanted[flag] === true).map((flag) => [flag, true]));
  const targets = call.participants().filter((server) => Object.keys(flags).length > 0 || owned.has(server.name));
  const listens = new Map<BackendServer, JsonRpcMessage>();
  for (const server of targets) {
    const own = owned.get(server.name);
    const listen = withParams(message, { ...params, notifications: { ...flags, ...(own ? { resourceSubscriptions: own } : {}) } });
    const body = { batch: false, messages: [listen], duplicateKeys: false };
    const judged = authorizeBody(body, call.judgeOf(server.name), call.log, call.ctx.options.notCarried);
    if (!judged.allowed) return refusalResponse(judged, body, call.log);
    listens.set(server, listen);
  }
  return listens;
}

export async function listen(call: AggregateCall, message: JsonRpcMessage): Promise<Response> {
  const { req } = call;
  const wanted = (message.params as Record<string, unknown>).notifications as Record<string, unknown>;
  const uris = (wanted.resourceSubscriptions ?? []) as string[];
  const listens = await listensByServer(call, message, uris);
  if (listens instanceof Response) return listens;
  const opened = await Promise.all(
    [...listens].map(async ([server, listenMessage]) => {
      try {
        const upstream = await forwardToBackend(req.request, JSON.stringify(listenMessage), server.config, await call.headersFor(server), ["last-event-id"]);
        if (answersWithEventStream(upstream)) return { server, upstream };
        upstream.stopTimer();
        await upstream.response.body?.cancel();
        return { server, failed: `answered HTTP ${upstream.response.status}` };
      } catch (err) {
        return { server, failed: (err as Error).message };
      }
    }),
  );
  const streams = opened.flatMap((o): Array<{ server: BackendServer; upstream: UpstreamResponse }> => ("upstream" in o && o.upstream ? [{ server: o.server, upstream: o.upstream }] : []));
  const failed = opened.flatMap((o) => ("failed" in o ? [{ server: o.server.name, reason: o.failed }] : []));
  if (failed.length > 0) call.noteUnavailable(failed.map((f) => f.server), `servers did not take the listen: ${failed.map((f) => `${f.server}: ${f.reason}`).join("; ")}`);
  if (streams.length === 0) throw new UpstreamError(`no MCP server took the listen (${failed.map((f) => `${f.server}: ${f.reason}`).join("; ")})`);

  const acknowledged = new Map<string, Record<string, unknown>>();
  const settled = new Set<string>();
  let answer: unknown;
  let allSettled: () => void = () => undefined;
  const everyServer = new Promise<void>((resolve) => (allSettled = resolve));
  const settle = (server: string) => {
    settled.add(server);
    if (settled.size === streams.length) allSettled();
  };
  const waitMs = Math.max(...streams.map((s) => s.server.config.timeoutMs));
  const opening = Promise.race([everyServer, new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref())]).then(() =>
    mergedAcknowledgement(message, uris, acknowledged.values()),
  );
  return mergeEventStreams(
    streams,
    req.log,
    (server, log) => {
      const filtering = call.filtering(server, log, { keepAliveMs: 0 });
      const clientFacing = filtering.rewrite as (m: unknown) => unknown;
      return {
        ...filtering,
        rewrite: (m) => {
          if (isObject(m) && m.method === ACKNOWLEDGED) {
            acknowledged.set(server, isObject(m.params) && isObject(m.params.notifications) ? m.params.notifications : {});
            settle(server);
            return MERGED_ELSEWHERE;
          }
          // Each server's answer to the listen ends its part; the client gets one, when every part has ended.
          if (isObject(m) && m.id === message.id && ("result" in m || "error" in m)) {
            answer = m;
            return MERGED_ELSEWHERE;
          }
          return clientFacing(m);
        },
      };
    },
    call.ctx.options.keepAliveMs,
    { opening, partEnded: settle, closing: () => (answer === undefined ? undefined : eventOf(answer)) },
  );
}
