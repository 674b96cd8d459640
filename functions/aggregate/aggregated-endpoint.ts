/**
 * The aggregated endpoint: every configured server behind one MCP endpoint (`MCP_PATH`), each judged by the same
 * policy as on its own endpoint, with `mcp.<kind>.target` its name. Here the session is opened and each request is
 * dispatched; each kind of handling has its module.
 *
 * A POST carries one message (batches are refused here: each message may go to another server). By method:
 * - `initialize` / `server/discover`: to every server, answers merged, session ids sealed into one (handshake.ts);
 * - lists: every server's page, filtered, prefixed and merged, with a sealed cursor (merged-list.ts);
 * - tools, prompts, resources and completions: to the server owning the item, judged as its (routing.ts), the answer
 *   filtered as that server's (forwarding.ts); `subscriptions/listen` likewise, its streams merged (listen.ts);
 * - the client's answers to server requests: to the server that asked (forwarding.ts);
 * - notifications and `logging/setLevel`: to every server; `ping`: answered by the gateway.
 * GET merges every server's stream, or resumes one; DELETE ends the session on every server (server-streams.ts). A
 * server that is down or slow costs only its own part: fan-outs say which servers did not answer and log them.
 */
import { authorizeBody, refusalResponse } from "../core/authorize-messages.js";
import type { JsonRpcPost } from "../core/read-body.js";
import { ProtocolError, SessionNotFoundError } from "../errors.js";
import { jsonResponse } from "../http/error-response.js";
import { RpcCode, errorResponse, type JsonRpcMessage } from "../mcp/jsonrpc.js";
import { pinnedUseVerdict } from "../pins/pinned-use.js";
import { AggregateCall, type AggregateContext, type AggregatedEndpointOptions, type AggregatedRequest } from "./aggregate-call.js";
import { openSession, type AggregateSession } from "./aggregate-session.js";
import { answerServer, broadcast, forward } from "./forwarding.js";
import { handshake } from "./handshake.js";
import { listen } from "./listen.js";
import { MERGED_LISTS } from "./merge-lists.js";
import { mergedList } from "./merged-list.js";
import { ResourceOwners } from "./resource-owners.js";
import { ROUTED_METHODS, refuseUnknown, route, shownInRefusal } from "./routing.js";
import { endSession, openStreams } from "./server-streams.js";

export type { AggregatedEndpointOptions, AggregatedRequest } from "./aggregate-call.js";

/** Judges nothing: the items of routed methods are judged once their server is known. */
const JUDGED_ONCE_ROUTED = () => ({ allowed: true, rule: undefined, explanation: "judged once routed" });

async function post(call: AggregateCall): Promise<Response> {
  const body = (call.req.post as JsonRpcPost).parsed;
  if (body.batch) {
    throw new ProtocolError(400, RpcCode.InvalidRequest, "Invalid Request: batches are not accepted on the aggregated endpoint (send one message per request, or use a server's own endpoint)", "batch on the aggregated endpoint");
  }
  const message = body.messages[0] as JsonRpcMessage;
  const { method } = message;
  if (method === undefined) return answerServer(call, message);
  // Disguised methods, tasks and what the front door cannot carry are refused as on every endpoint; malformed
  // references too, in the words every endpoint uses.
  const routed = ROUTED_METHODS.has(method);
  const verdict = authorizeBody(body, routed ? JUDGED_ONCE_ROUTED : call.req.judge, call.log, call.ctx.options.notCarried);
  if (!verdict.allowed) return refusalResponse(verdict, body, call.log);
  if (method === "initialize" || method === "server/discover") return handshake(call, message);
  if (MERGED_LISTS.has(method)) return mergedList(call, message);
  if (method === "ping") {
    call.log.write(200);
    return jsonResponse({ jsonrpc: "2.0", id: message.id, result: {} }, 200);
  }
  if (method === "logging/setLevel" || message.id === undefined) return broadcast(call, message);
  if (method === "subscriptions/listen") return listen(call, message);
  if (routed) {
    const target = await route(call, message);
    if ("unknown" in target) return refuseUnknown(call, message, target.unknown);
    // The log names the server whose item it is, whether the call goes there or is refused.
    call.log.entry.server = target.server.name;
    const routedBody = { batch: false, messages: [target.message], duplicateKeys: false };
    const judged = authorizeBody(routedBody, call.judgeOf(target.server.name), call.log, call.ctx.options.notCarried);
    // A denied item is refused under the name the client used, as one no server owns is.
    // A pinned definition's use, once the policy allowed it: refused alike when changed or unpinned (pins/).
    const pinned = judged.allowed
      ? await pinnedUseVerdict({ pinning: call.ctx.options.pinning, body: routedBody, server: target.server, pins: call.req.pins, log: call.log, request: call.req.request, headers: () => call.headersFor(target.server), maxMessageBytes: call.ctx.options.maxMessageBytes, notCarried: call.ctx.options.notCarried })
      : judged;
    if (!pinned.allowed) return refusalResponse({ allowed: false, responses: pinned.responses.map((r) => shownInRefusal(r, target.shown)) }, routedBody, call.log);
    return forward(call, target.server, target.message);
  }
  call.log.entry.reason = `method ${JSON.stringify(method)} is not served by the aggregated endpoint`;
  call.log.write(200);
  return jsonResponse(errorResponse(message.id, RpcCode.MethodNotFound, `Method not found: ${method}`), 200);
}

export function createAggregatedEndpoint(options: AggregatedEndpointOptions) {
  const byName = new Map(options.servers.map((server) => [server.name, server]));
  const ctx: AggregateContext = { options, byName, names: new Set(byName.keys()), owners: new ResourceOwners() };
  return {
    async handle(req: AggregatedRequest): Promise<Response> {
      const clientSessionId = req.request.headers.get("mcp-session-id");
      let session: AggregateSession | undefined;
      if (clientSessionId !== null) {
        await options.sessions.ready();
        session = await openSession(options.sessions, clientSessionId, req.identity);
        if (!session) throw new SessionNotFoundError("Mcp-Session-Id was not issued to this caller on this endpoint (another caller's, altered, or sealed with another key)");
      }
      const call = new AggregateCall(ctx, req, session);
      if (req.request.method === "GET") return openStreams(call);
      if (req.request.method === "DELETE") return endSession(call);
      return post(call);
    },
  };
}
