/**
 * A list on the aggregated endpoint: the next page of every server still listing (all of them without a cursor),
 * fetched in parallel, merged (merge-lists.ts), with a cursor sealed for this caller and this list naming the servers
 * with more pages and each one's own cursor (list-cursor.ts). A cursor the gateway did not seal for this caller and
 * list is refused (-32602): no server ever sees a cursor it did not issue. A server that did not answer, now or at
 * the session's initialize, is named in the page's `_meta`.
 */
import { jsonResponse } from "../http/error-response.js";
import { RpcCode, errorResponse, type JsonRpcMessage } from "../mcp/jsonrpc.js";
import type { BackendServer } from "../servers/backend-server.js";
import { isObject, withParams, type AggregateCall } from "./aggregate-call.js";
import { openCursor, sealCursor } from "./list-cursor.js";
import { MERGED_LISTS, mergeListPages, type ServerPage } from "./merge-lists.js";
import { resourceLookup } from "./routing.js";

/** The servers and their own cursors this page reads, or undefined for a cursor the gateway did not issue. */
async function pendingPages(call: AggregateCall, method: string, cursor: unknown): Promise<Array<[string, string | undefined]> | undefined> {
  if (cursor === undefined) return call.participants().map((server) => [server.name, undefined]);
  const opened = typeof cursor === "string" ? await openCursor(call.ctx.options.sessions, cursor, call.req.identity, method) : undefined;
  return opened?.filter(([server]) => call.participant(server) !== undefined);
}

/** Servers that did not answer the session's initialize: missing from every list, said on each list's first page. */
function absentFromSession(call: AggregateCall): ServerPage[] {
  const { session } = call;
  if (!session) return [];
  return call.ctx.options.servers.flatMap((server) => {
    const part = session.servers[server.name];
    return part !== undefined && "unavailable" in part ? [{ server: server.name, unavailable: `did not answer initialize: ${part.unavailable}` }] : [];
  });
}

export async function mergedList(call: AggregateCall, message: JsonRpcMessage): Promise<Response> {
  const { log, identity } = call.req;
  const method = message.method as string;
  const { cursor, ...rest } = isObject(message.params) ? message.params : {};
  const pending = await pendingPages(call, method, cursor);
  if (!pending) {
    log.entry.reason = `${method}: a cursor the gateway did not issue to this caller for this list`;
    log.entry.decision = "denied";
    log.write(200);
    return jsonResponse(errorResponse(message.id, RpcCode.InvalidParams, "Invalid params: unknown cursor"), 200);
  }
  const targets = pending.map(([name]) => call.ctx.byName.get(name) as BackendServer);
  const cursors = new Map(pending);
  const shape = MERGED_LISTS.get(method) as { prefixed: boolean };
  // Resources keep their URIs: who owns one is read from every server's whole lists, so that a collision on
  // another page (or one the caller may not see) is told apart as routing tells it (merge-lists.ts).
  const [outcomes, lookup] = await Promise.all([
    call.fanOut(targets, (server) => {
      const own = cursors.get(server.name);
      return withParams(message, { ...rest, ...(own !== undefined ? { cursor: own } : {}) });
    }),
    shape.prefixed ? undefined : resourceLookup(call),
  ]);
  const pages: ServerPage[] = outcomes.map((o) => {
    if ("answer" in o) return { server: o.server, result: o.answer.answer.result };
    // A server without this kind of item says so with "method not found": it has none, and is not down.
    if (o.failure?.code === RpcCode.MethodNotFound) return { server: o.server, result: {} };
    return { server: o.server, unavailable: o.unavailable };
  });
  const absent = cursor === undefined ? absentFromSession(call) : [];
  if (absent.length > 0) {
    call.noteUnavailable(absent.map((page) => page.server), `servers missing from this session: ${absent.map((page) => page.server).join(", ")}`);
    pages.push(...absent);
  }
  const template = method === "resources/templates/list";
  const merged = mergeListPages(method, pages, (server) => call.allows(server), lookup && ((id) => lookup(id, template)));
  log.countRemoved(merged.removed);
  const nextCursor = merged.pending.length > 0 ? await sealCursor(call.ctx.options.sessions, merged.pending, identity, method) : undefined;
  log.entry.decision ??= "allowed";
  log.write(200);
  return jsonResponse({ jsonrpc: "2.0", id: message.id, result: { ...merged.result, ...(nextCursor ? { nextCursor } : {}) } }, 200);
}
