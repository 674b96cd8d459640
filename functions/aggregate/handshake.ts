/**
 * `initialize` and `server/discover` on the aggregated endpoint: sent to every server in parallel, their answers
 * merged (merge-handshake.ts); after an initialize, the servers' session ids and versions are sealed into the one
 * session id the client gets (aggregate-session.ts). A server that does not answer has no part in the session.
 */
import { UpstreamError } from "../errors.js";
import { jsonResponse } from "../http/error-response.js";
import type { JsonRpcMessage } from "../mcp/jsonrpc.js";
import { isObject, type AggregateCall } from "./aggregate-call.js";
import { sealSession, type AggregateSession, type ServerSession } from "./aggregate-session.js";
import { mergeDiscover, mergeInitialize } from "./merge-handshake.js";
import type { ServerPage } from "./merge-lists.js";

export async function handshake(call: AggregateCall, message: JsonRpcMessage): Promise<Response> {
  const { log, identity } = call.req;
  const outcomes = await call.fanOut(call.ctx.options.servers, () => message);
  const pages: ServerPage[] = outcomes.map((o) => ("answer" in o ? { server: o.server, result: o.answer.answer.result } : { server: o.server, unavailable: o.unavailable }));
  if (message.method === "server/discover") {
    const result = mergeDiscover(pages);
    if (!result) throw new UpstreamError(`no MCP server answered server/discover (${log.entry.reason ?? ""})`);
    log.write(200);
    return jsonResponse({ jsonrpc: "2.0", id: message.id, result }, 200);
  }
  const requested = isObject(message.params) ? message.params.protocolVersion : undefined;
  const result = mergeInitialize(requested, pages);
  if (!result) throw new UpstreamError(`no MCP server answered initialize (${log.entry.reason ?? ""})`);
  const session: AggregateSession = {
    servers: Object.fromEntries(
      outcomes.map((o): [string, ServerSession] => {
        if (!("answer" in o)) return [o.server, { unavailable: o.unavailable }];
        const sessionId = o.answer.headers.get("mcp-session-id");
        const version = o.answer.answer.result.protocolVersion;
        return [o.server, { ...(sessionId ? { session: sessionId } : {}), ...(typeof version === "string" ? { version } : {}) }];
      }),
    ),
  };
  const sealed = await sealSession(call.ctx.options.sessions, session, identity);
  log.write(200);
  return jsonResponse({ jsonrpc: "2.0", id: message.id, result }, 200, { "mcp-session-id": sealed });
}
