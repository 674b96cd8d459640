/**
 * Messages the aggregated endpoint sends on as they are (with the server's own name in them, once routed): a routed
 * request to its server, its answer filtered as that server's; the client's answer to a server's request back to the
 * server that asked, under its own id; a resumed stream to the server whose event the client last saw; notifications
 * and `logging/setLevel` to every server of the session.
 */
import { ProtocolError } from "../errors.js";
import { jsonResponse } from "../http/error-response.js";
import { RpcCode, errorResponse, type JsonRpcMessage } from "../mcp/jsonrpc.js";
import { filteredResponse } from "../proxy/filtered-response.js";
import { forwardToBackend } from "../proxy/upstream.js";
import type { BackendServer } from "../servers/backend-server.js";
import { isObject, type AggregateCall } from "./aggregate-call.js";
import { serverRequestOrigin } from "./server-request-ids.js";

/** Sends one routed message to its server and passes the answer on, filtered as that server's. */
export async function forward(call: AggregateCall, server: BackendServer, message: JsonRpcMessage): Promise<Response> {
  const { req } = call;
  req.log.entry.server = server.name;
  const headers = [...(await call.headersFor(server)), ...req.paramHeaders];
  // Mcp-Name (2026-07-28) says what the body says, for this server: its own name for the item.
  const params = isObject(message.params) ? message.params : {};
  const named = typeof params.name === "string" ? params.name : typeof params.uri === "string" ? params.uri : undefined;
  if (named !== undefined && req.request.headers.has("mcp-name")) headers.push(["mcp-name", named]);
  const upstream = await forwardToBackend(req.request, JSON.stringify(message), server.config, headers, ["last-event-id"]);
  const response = await filteredResponse(upstream, call.filtering(server.name, req.log, { pendingRequestId: message.id, answersPost: true }));
  // The server's own session id is inside the client's; it never reaches the client bare.
  response.headers.delete("mcp-session-id");
  return response;
}

/**
 * A stream resumed with `Last-Event-ID`: the server whose event it names is asked to replay after its own id, and
 * its stream alone is the answer (another server never sees the id).
 */
export async function resume(call: AggregateCall, server: BackendServer, lastEventId: string): Promise<Response> {
  const { req } = call;
  req.log.entry.server = server.name;
  const headers = [...(await call.headersFor(server)), ["last-event-id", lastEventId] as const];
  const upstream = await forwardToBackend(req.request, undefined, server.config, headers, ["mcp-name", "mcp-method"]);
  const response = await filteredResponse(upstream, call.filtering(server.name, req.log));
  response.headers.delete("mcp-session-id");
  return response;
}

/** The client's answer to a server's request goes to that server, under the server's own id. */
export async function answerServer(call: AggregateCall, message: JsonRpcMessage): Promise<Response> {
  const { req } = call;
  const origin = serverRequestOrigin(message.id, call.ctx.names);
  const server = origin && call.participant(origin.server);
  if (!origin || !server) {
    throw new ProtocolError(400, RpcCode.InvalidRequest, "Invalid Request: this answers no request a server sent through the gateway", `answer under id ${JSON.stringify(message.id)}, which no server's request was given`);
  }
  req.log.entry.server = server.name;
  const upstream = await forwardToBackend(req.request, JSON.stringify({ ...message, id: origin.id }), server.config, await call.headersFor(server), ["last-event-id", "mcp-name"]);
  upstream.stopTimer();
  await upstream.response.body?.cancel();
  const taken = upstream.response.status < 300;
  req.log.entry.decision = "allowed";
  req.log.write(taken ? 202 : 502);
  return taken ? new Response(null, { status: 202 }) : jsonResponse(errorResponse(null, -32003, "Bad gateway: the MCP server did not take the answer"), 502);
}

/** Notifications and `logging/setLevel` go to every server of the session. */
export async function broadcast(call: AggregateCall, message: JsonRpcMessage): Promise<Response> {
  const { req } = call;
  const targets = call.participants();
  if (message.id === undefined) {
    const statuses = await Promise.all(
      targets.map(async (server) => {
        try {
          const upstream = await forwardToBackend(req.request, JSON.stringify(message), server.config, await call.headersFor(server), ["last-event-id", "mcp-name"]);
          upstream.stopTimer();
          await upstream.response.body?.cancel();
          return upstream.response.status < 300 ? undefined : `${server.name}: HTTP ${upstream.response.status}`;
        } catch (err) {
          return `${server.name}: ${(err as Error).message}`;
        }
      }),
    );
    const failed = statuses.filter((s): s is string => s !== undefined);
    if (failed.length > 0) req.log.entry.reason = `notification not taken by: ${failed.join("; ")}`;
    req.log.entry.decision ??= "allowed";
    req.log.write(202);
    return new Response(null, { status: 202 });
  }
  await call.fanOut(targets, () => message);
  req.log.entry.decision ??= "allowed";
  req.log.write(200);
  return jsonResponse({ jsonrpc: "2.0", id: message.id, result: {} }, 200);
}
