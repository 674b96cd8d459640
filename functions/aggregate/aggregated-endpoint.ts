/**
 * The aggregated endpoint: every configured server behind one MCP endpoint (`MCP_PATH`), each judged by the same
 * policy as its own endpoint, with `mcp.<kind>.target` its name.
 *
 * A POST carries one message (batches are refused here: each message may go to another server). By method:
 * - `initialize` / `server/discover`: sent to every server in parallel, answers merged (merge-handshake.ts); the
 *   servers' session ids sealed into the client's one (aggregate-session.ts);
 * - lists: every server's page in parallel, filtered, prefixed and merged, with a sealed cursor (merge-lists.ts);
 * - `tools/call`, `prompts/get`, completions of a prompt: to the server the prefix names, without the prefix;
 *   resource reads, subscriptions and completions of a template: to the server that lists the resource
 *   (resource-owners.ts); a name or URI no server owns is refused as a denied one is (-32602, "Unknown tool");
 * - the client's answers to server requests: to the server that asked (server-request-ids.ts);
 * - notifications and `logging/setLevel`: to every server; `ping`: answered by the gateway.
 * GET merges every server's stream into one; DELETE ends the session on every server. A server that is down or slow
 * costs only its own part: fan-outs say which servers did not answer (lists in their `_meta`) and log them.
 */
import { SessionNotFoundError, UpstreamError, ProtocolError } from "../errors.js";
import type { AccessLog } from "../http/access-log.js";
import { jsonResponse } from "../http/error-response.js";
import type { JsonRpcPost } from "../core/read-body.js";
import { authorizeBody, refusalResponse, type NotCarried } from "../core/authorize-messages.js";
import type { Judge } from "../core/judge.js";
import { RpcCode, errorResponse, type JsonRpcMessage } from "../mcp/jsonrpc.js";
import { MERGED_ELSEWHERE } from "../mcp/sse.js";
import type { ItemPredicate } from "../mcp/list-filter.js";
import type { Identity, PolicyItem } from "../policy/types.js";
import { filteredResponse } from "../proxy/filtered-response.js";
import type { SessionBinding } from "../proxy/session-binding.js";
import { forwardToBackend } from "../proxy/upstream.js";
import type { BackendServer, HeaderList } from "../servers/backend-server.js";
import { ExchangeFailure, exchange, type ExchangeAnswer } from "../servers/server-exchange.js";
import type { UpstreamResponse } from "../proxy/upstream.js";
import { openSession, sealSession, type AggregateSession, type ServerSession } from "./aggregate-session.js";
import { openCursor, sealCursor, type PendingPages } from "./list-cursor.js";
import { mergeDiscover, mergeInitialize } from "./merge-handshake.js";
import { MERGED_LISTS, mergeListPages, type ServerPage } from "./merge-lists.js";
import { mergeEventStreams } from "./merged-streams.js";
import { splitPrefixedName } from "./prefixed-names.js";
import { ResourceOwners, type ListedResources } from "./resource-owners.js";
import { clientFacingEventId, eventIdOrigin, serverRequestOrigin, withClientFacingId } from "./server-request-ids.js";

export interface AggregatedEndpointOptions {
  servers: readonly BackendServer[];
  sessions: SessionBinding;
  /** `MAX_BACKEND_MESSAGE_BYTES`. */
  maxMessageBytes: number;
  /** Whether the runtime streams (see GatewayOptions.serverStreams). */
  carriesServerRequests: boolean;
  /** `SSE_KEEPALIVE_SECONDS` in milliseconds; 0 on a buffered runtime. */
  keepAliveMs: number;
  notCarried: NotCarried;
}

/** One request on the aggregated endpoint, authenticated and read. */
export interface AggregatedRequest {
  request: Request;
  post: JsonRpcPost | undefined;
  identity: Identity;
  /** The policy for this caller (targets not yet set). */
  judge: Judge;
  log: AccessLog;
  /** The gateway's public base URL (the issuer of the tokens it mints). */
  issuer: string;
  /** `Mcp-Param-*` headers, checked against the body. */
  paramHeaders: HeaderList;
}

/** One server's part of a fan-out: its answer, or why there is none. */
type FanOutOutcome =
  | { server: string; answer: ExchangeAnswer }
  | { server: string; failure: ExchangeFailure | undefined; unavailable: string };

/** The lists a server's resources are read from, for routing; more pages than this are not looked through. */
const MAX_LISTING_PAGES = 20;

/** Methods that name an item by a prefixed name (`params.name`, or `params.ref.name` for a prompt's completion). */
const PREFIXED_METHODS = new Set(["tools/call", "prompts/get"]);
/** Methods that name a resource by its URI (`params.uri`). */
const RESOURCE_METHODS = new Set(["resources/read", "resources/subscribe", "resources/unsubscribe"]);
/** Methods whose items are judged once routed, as their owner's (the first pass checks only their shape). */
const ROUTED_METHODS = new Set([...PREFIXED_METHODS, ...RESOURCE_METHODS, "completion/complete", "subscriptions/listen"]);
/** The list-changed kinds a listen (2026-07-28) may ask every server for. */
const LISTEN_FLAGS = ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] as const;
const ACKNOWLEDGED = "notifications/subscriptions/acknowledged";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The judge of one server's items: the item's target is that server's name. */
function judgeFor(judge: Judge, server: string): Judge {
  return (item) => judge({ ...item, target: server });
}

function allowsFor(judge: Judge, server: string, log: AccessLog): ItemPredicate {
  return (item: PolicyItem) => {
    const decision = judge({ ...item, target: server });
    if (decision.dryRun && !decision.dryRun.allowed) log.countDryRunRemoved(1);
    return decision.allowed;
  };
}

/** The message for the server: `params` (or `params.ref`) with the server's own name in place of the shown one. */
function withParams(message: JsonRpcMessage, params: Record<string, unknown>): JsonRpcMessage {
  return { ...message, params };
}

/** A refusal naming the item as the client named it (`Unknown tool: docs_delete`, not the server's own name). */
function shownInRefusal(response: JsonRpcMessage, shown: string): JsonRpcMessage {
  const error = response.error as { code: number; message: string } | undefined;
  const unknown = error && /^Unknown (tool|prompt|resource): /.exec(error.message);
  return unknown ? { ...response, error: { ...error, message: `${unknown[0]}${shown}` } } : response;
}

export function createAggregatedEndpoint(options: AggregatedEndpointOptions) {
  const { servers, sessions } = options;
  const byName = new Map(servers.map((server) => [server.name, server]));
  const names: ReadonlySet<string> = new Set(byName.keys());
  const owners = new ResourceOwners();

  /** The servers taking part in a session (all of them without one: stateless), in configuration order. */
  function participants(session: AggregateSession | undefined): BackendServer[] {
    if (!session) return [...servers];
    return servers.filter((server) => {
      const part = session.servers[server.name];
      return part !== undefined && !("unavailable" in part);
    });
  }

  /** The headers a request to `server` carries: the gateway's own, and the server's part of the session. */
  async function headersFor(server: BackendServer, req: AggregatedRequest, session: AggregateSession | undefined): Promise<Array<readonly [string, string]>> {
    const part = session?.servers[server.name] as { session?: string; version?: string } | undefined;
    return [
      ...(await server.gatewayHeaders(req.identity, req.issuer)),
      ...(part?.session !== undefined ? [["mcp-session-id", part.session] as const] : []),
      ...(part?.version !== undefined ? [["mcp-protocol-version", part.version] as const] : []),
    ];
  }

  /** Sends `message` to each of `targets` and collects their answers (or why not), in configuration order. */
  async function fanOut(req: AggregatedRequest, session: AggregateSession | undefined, targets: readonly BackendServer[], messageFor: (server: BackendServer) => JsonRpcMessage) {
    const outcomes = await Promise.all(
      targets.map(async (server): Promise<FanOutOutcome> => {
        try {
          const answer = await exchange(req.request, server, messageFor(server), await headersFor(server, req, session), options.maxMessageBytes);
          return { server: server.name, answer };
        } catch (err) {
          const reason = err instanceof ExchangeFailure ? err.reason : err instanceof Error ? err.message : String(err);
          return { server: server.name, failure: err instanceof ExchangeFailure ? err : undefined, unavailable: reason };
        }
      }),
    );
    const unavailable = outcomes.filter((o) => "unavailable" in o).map((o) => `${o.server}: ${(o as { unavailable: string }).unavailable}`);
    if (unavailable.length > 0) {
      req.log.entry.serversUnavailable = outcomes.filter((o) => "unavailable" in o).map((o) => o.server);
      req.log.entry.reason = `servers did not answer: ${unavailable.join("; ")}`;
    }
    return outcomes;
  }

  async function handshake(req: AggregatedRequest, message: JsonRpcMessage): Promise<Response> {
    const outcomes = await fanOut(req, undefined, servers, () => message);
    const pages: ServerPage[] = outcomes.map((o) => ("answer" in o ? { server: o.server, result: o.answer.answer.result } : { server: o.server, unavailable: o.unavailable }));
    if (message.method === "server/discover") {
      const result = mergeDiscover(pages);
      if (!result) throw new UpstreamError(`no MCP server answered server/discover (${req.log.entry.reason ?? ""})`);
      req.log.write(200);
      return jsonResponse({ jsonrpc: "2.0", id: message.id, result }, 200);
    }
    const requested = isObject(message.params) ? message.params.protocolVersion : undefined;
    const result = mergeInitialize(requested, pages);
    if (!result) throw new UpstreamError(`no MCP server answered initialize (${req.log.entry.reason ?? ""})`);
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
    const sealed = await sealSession(sessions, session, req.identity);
    req.log.write(200);
    return jsonResponse({ jsonrpc: "2.0", id: message.id, result }, 200, { "mcp-session-id": sealed });
  }

  async function mergedList(req: AggregatedRequest, session: AggregateSession | undefined, message: JsonRpcMessage): Promise<Response> {
    const method = message.method as string;
    const params = isObject(message.params) ? message.params : {};
    let pending: Array<[string, string | undefined]>;
    if (params.cursor !== undefined) {
      const opened = typeof params.cursor === "string" ? await openCursor(sessions, params.cursor, req.identity, method) : undefined;
      if (!opened) {
        req.log.entry.reason = `${method}: a cursor the gateway did not issue to this caller for this list`;
        req.log.entry.decision = "denied";
        req.log.write(200);
        return jsonResponse(errorResponse(message.id, RpcCode.InvalidParams, "Invalid params: unknown cursor"), 200);
      }
      pending = opened.filter(([server]) => participants(session).some((s) => s.name === server));
    } else {
      pending = participants(session).map((server) => [server.name, undefined]);
    }
    const { cursor: _cursor, ...rest } = params;
    const targets = pending.map(([name]) => byName.get(name) as BackendServer);
    const cursors = new Map(pending);
    const shape = MERGED_LISTS.get(method) as { prefixed: boolean };
    // Resources keep their URIs: who owns one is read from every server's whole lists, so that a collision on
    // another page (or one the caller may not see) is told apart as routing tells it (merge-lists.ts).
    const [outcomes, lookup] = await Promise.all([
      fanOut(req, session, targets, (server) => {
        const cursor = cursors.get(server.name);
        return withParams(message, { ...rest, ...(cursor !== undefined ? { cursor } : {}) });
      }),
      shape.prefixed ? undefined : resourceLookup(req, session),
    ]);
    const pages: ServerPage[] = outcomes.map((o) => {
      if ("answer" in o) return { server: o.server, result: o.answer.answer.result };
      // A server without this kind of item says so with "method not found": it has none, and is not down.
      if (o.failure?.code === RpcCode.MethodNotFound) return { server: o.server, result: {} };
      return { server: o.server, unavailable: o.unavailable };
    });
    // A server that did not answer the session's initialize is missing from every list of the session: the first
    // page says so, as it says of a server that did not answer this list.
    const absent: ServerPage[] = params.cursor !== undefined || !session
      ? []
      : servers.flatMap((server) => {
          const part = session.servers[server.name];
          return part !== undefined && "unavailable" in part ? [{ server: server.name, unavailable: `did not answer initialize: ${part.unavailable}` }] : [];
        });
    if (absent.length > 0) {
      const names = absent.map((page) => page.server);
      req.log.entry.serversUnavailable = [...names, ...(req.log.entry.serversUnavailable ?? [])];
      req.log.entry.reason = `${req.log.entry.reason ? `${req.log.entry.reason}; ` : ""}servers missing from this session: ${names.join(", ")}`;
      pages.push(...absent);
    }
    const template = method === "resources/templates/list";
    const merged = mergeListPages(method, pages, (server) => allowsFor(req.judge, server, req.log), lookup && ((id) => lookup(id, template)));
    req.log.countRemoved(merged.removed);
    const nextCursor = merged.pending.length > 0 ? await sealCursor(sessions, merged.pending as PendingPages, req.identity, method) : undefined;
    req.log.entry.decision ??= "allowed";
    req.log.write(200);
    return jsonResponse({ jsonrpc: "2.0", id: message.id, result: { ...merged.result, ...(nextCursor ? { nextCursor } : {}) } }, 200);
  }

  /** Every page of one list of one server, or undefined when it could not answer. */
  async function listAll(req: AggregatedRequest, session: AggregateSession | undefined, server: BackendServer, method: string, key: string, field: string): Promise<string[] | undefined> {
    const found: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LISTING_PAGES; page++) {
      try {
        // The client's `_meta` (2026-07-28 carries the protocol version in it) goes with the gateway's own requests.
        const clientParams = req.post?.parsed.messages[0]?.params;
        const meta = isObject(clientParams) && isObject(clientParams._meta) ? { _meta: clientParams._meta } : {};
        const params = { ...meta, ...(cursor ? { cursor } : {}) };
        const { answer } = await exchange(req.request, server, { jsonrpc: "2.0", id: `gateway-listing-${page}`, method, params }, await headersFor(server, req, session), options.maxMessageBytes);
        const items = Array.isArray(answer.result[key]) ? (answer.result[key] as unknown[]) : [];
        for (const item of items) if (isObject(item) && typeof item[field] === "string") found.push(item[field] as string);
        cursor = typeof answer.result.nextCursor === "string" ? answer.result.nextCursor : undefined;
        if (!cursor) return found;
      } catch (err) {
        if (err instanceof ExchangeFailure && err.code === RpcCode.MethodNotFound) return found;
        return undefined;
      }
    }
    return found;
  }

  /** Who owns each resource URI and template in this session (resource-owners.ts). */
  function resourceLookup(req: AggregatedRequest, session: AggregateSession | undefined): Promise<(uri: string, template?: boolean) => string | undefined> {
    const targets = participants(session);
    const sessionKey = req.request.headers.get("mcp-session-id") ?? `stateless ${JSON.stringify([req.identity.claims.iss, req.identity.subject])}`;
    return owners.lookup(
      sessionKey,
      targets.map((s) => s.name),
      async (name): Promise<ListedResources | undefined> => {
        const server = byName.get(name) as BackendServer;
        const [uris, templates] = await Promise.all([
          listAll(req, session, server, "resources/list", "resources", "uri"),
          listAll(req, session, server, "resources/templates/list", "resourceTemplates", "uriTemplate"),
        ]);
        return uris === undefined && templates === undefined ? undefined : { uris: new Set(uris ?? []), templates: templates ?? [] };
      },
    );
  }

  async function resourceOwner(req: AggregatedRequest, session: AggregateSession | undefined, uri: string, template: boolean): Promise<BackendServer | undefined> {
    const owner = (await resourceLookup(req, session))(uri, template);
    return owner === undefined ? undefined : byName.get(owner);
  }

  /**
   * The server a message is for and the message it is sent, or the refusal of a name or URI no server owns (the
   * words of a denial: whether an item exists is not revealed).
   */
  async function route(req: AggregatedRequest, session: AggregateSession | undefined, message: JsonRpcMessage): Promise<{ server: BackendServer; message: JsonRpcMessage; shown: string } | { unknown: PolicyItem }> {
    const method = message.method as string;
    const params = isObject(message.params) ? message.params : {};
    const ref = isObject(params.ref) ? params.ref : undefined;
    const kind = method === "tools/call" ? "tool" : "prompt";
    if (PREFIXED_METHODS.has(method) || (method === "completion/complete" && ref?.type === "ref/prompt")) {
      const shown = (method === "completion/complete" ? ref?.name : params.name) as string;
      const split = splitPrefixedName(shown, names);
      const server = split && participants(session).find((s) => s.name === split.server);
      if (!split || !server) return { unknown: { kind: method === "completion/complete" ? "prompt" : kind, name: shown } };
      const own = method === "completion/complete" ? { ...params, ref: { ...ref, name: split.name } } : { ...params, name: split.name };
      return { server, message: withParams(message, own), shown };
    }
    const uri = (method === "completion/complete" ? ref?.uri : params.uri) as string;
    const server = await resourceOwner(req, session, uri, method === "completion/complete");
    return server ? { server, message, shown: uri } : { unknown: { kind: "resource", name: uri } };
  }

  /** Sends one message to one server and passes its answer on, filtered as that server's, ids made client-facing. */
  async function forward(req: AggregatedRequest, session: AggregateSession | undefined, server: BackendServer, message: JsonRpcMessage): Promise<Response> {
    req.log.entry.server = server.name;
    const headers = [...(await headersFor(server, req, session)), ...req.paramHeaders];
    const routedName = isObject(message.params) && typeof message.params.name === "string" ? message.params.name : undefined;
    if (routedName !== undefined && req.request.headers.has("mcp-name")) headers.push(["mcp-name", routedName]);
    if (routedName === undefined && isObject(message.params) && typeof message.params.uri === "string" && req.request.headers.has("mcp-name")) headers.push(["mcp-name", message.params.uri]);
    const upstream = await forwardToBackend(req.request, JSON.stringify(message), server.config, headers, ["last-event-id"]);
    const pendingRequestId = message.method !== undefined && message.id !== undefined ? message.id : undefined;
    const response = await filteredResponse(upstream, {
      allows: allowsFor(req.judge, server.name, req.log),
      log: req.log,
      pendingRequestId,
      carriesServerRequests: options.carriesServerRequests,
      maxMessageBytes: options.maxMessageBytes,
      answersPost: true,
      keepAliveMs: options.keepAliveMs,
      rewrite: (m) => withClientFacingId(m, server.name),
      rewriteEventId: (id) => clientFacingEventId(server.name, id),
    });
    // The server's own session id is inside the client's; it never reaches the client bare.
    response.headers.delete("mcp-session-id");
    return response;
  }

  /** Notifications and `logging/setLevel` go to every server of the session. */
  async function broadcast(req: AggregatedRequest, session: AggregateSession | undefined, message: JsonRpcMessage): Promise<Response> {
    const targets = participants(session);
    if (message.id === undefined) {
      const statuses = await Promise.all(
        targets.map(async (server) => {
          try {
            const upstream = await forwardToBackend(req.request, JSON.stringify(message), server.config, await headersFor(server, req, session), ["last-event-id", "mcp-name"]);
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
    await fanOut(req, session, targets, () => message);
    req.log.entry.decision ??= "allowed";
    req.log.write(200);
    return jsonResponse({ jsonrpc: "2.0", id: message.id, result: {} }, 200);
  }

  /** The client's answer to a server's request goes to that server, under the server's own id. */
  async function answerServer(req: AggregatedRequest, session: AggregateSession | undefined, message: JsonRpcMessage): Promise<Response> {
    const origin = serverRequestOrigin(message.id, names);
    const server = origin && participants(session).find((s) => s.name === origin.server);
    if (!origin || !server) {
      throw new ProtocolError(400, RpcCode.InvalidRequest, "Invalid Request: this answers no request a server sent through the gateway", `answer under id ${JSON.stringify(message.id)}, which no server's request was given`);
    }
    req.log.entry.server = server.name;
    const upstream = await forwardToBackend(req.request, JSON.stringify({ ...message, id: origin.id }), server.config, await headersFor(server, req, session), ["last-event-id", "mcp-name"]);
    upstream.stopTimer();
    await upstream.response.body?.cancel();
    req.log.entry.decision = "allowed";
    req.log.write(upstream.response.status < 300 ? 202 : 502);
    return upstream.response.status < 300 ? new Response(null, { status: 202 }) : jsonResponse(errorResponse(null, -32003, "Bad gateway: the MCP server did not take the answer"), 502);
  }

  /** A name or URI no server owns, refused in the words of a denial. */
  function refuseUnknown(req: AggregatedRequest, message: JsonRpcMessage, item: PolicyItem): Response {
    req.log.entry[item.kind] = item.name;
    req.log.entry.reason = `${item.kind} ${JSON.stringify(item.name)} belongs to no server of this endpoint`;
    req.log.entry.decision = "denied";
    req.log.write(200);
    return jsonResponse(errorResponse(message.id, RpcCode.InvalidParams, `Unknown ${item.kind}: ${item.name}`), 200);
  }

  /**
   * `subscriptions/listen` (2026-07-28): each resource it names goes to its owner and is judged as that server's (one
   * no server owns, or the caller may not read, refuses the whole listen before any server is asked); list-changed
   * kinds go to every server. The servers' streams are merged, their acknowledgements into one, sent first.
   */
  async function listen(req: AggregatedRequest, session: AggregateSession | undefined, message: JsonRpcMessage): Promise<Response> {
    const params = message.params as Record<string, unknown>;
    const wanted = params.notifications as Record<string, unknown>;
    const uris = (wanted.resourceSubscriptions ?? []) as string[];
    const owned = new Map<string, string[]>();
    if (uris.length > 0) {
      const ownerOf = await resourceLookup(req, session);
      for (const uri of uris) {
        const owner = ownerOf(uri);
        if (owner === undefined) return refuseUnknown(req, message, { kind: "resource", name: uri });
        owned.set(owner, [...(owned.get(owner) ?? []), uri]);
      }
    }
    const flags = Object.fromEntries(LISTEN_FLAGS.filter((flag) => wanted[flag] === true).map((flag) => [flag, true]));
    const targets = participants(session).filter((server) => Object.keys(flags).length > 0 || owned.has(server.name));
    const messages = new Map(
      targets.map((server) => {
        const own = owned.get(server.name);
        return [server.name, withParams(message, { ...params, notifications: { ...flags, ...(own ? { resourceSubscriptions: own } : {}) } })];
      }),
    );
    for (const server of targets) {
      const routedBody = { batch: false, messages: [messages.get(server.name) as JsonRpcMessage], duplicateKeys: false };
      const judged = authorizeBody(routedBody, judgeFor(req.judge, server.name), req.log, options.notCarried);
      if (!judged.allowed) return refusalResponse(judged, routedBody, req.log);
    }
    const opened = await Promise.all(
      targets.map(async (server) => {
        try {
          const upstream = await forwardToBackend(req.request, JSON.stringify(messages.get(server.name)), server.config, await headersFor(server, req, session), ["last-event-id"]);
          const ok = upstream.response.ok && (upstream.response.headers.get("content-type") ?? "").toLowerCase().startsWith("text/event-stream");
          if (ok) return { server, upstream };
          upstream.stopTimer();
          await upstream.response.body?.cancel();
          return { server, failed: `answered HTTP ${upstream.response.status}` };
        } catch (err) {
          return { server, failed: (err as Error).message };
        }
      }),
    );
    const streams = opened.flatMap((o) => ("upstream" in o && o.upstream ? [{ server: o.server, upstream: o.upstream }] : []));
    const failed = opened.flatMap((o) => ("failed" in o ? [`${o.server.name}: ${o.failed}`] : []));
    if (failed.length > 0) {
      req.log.entry.serversUnavailable = opened.flatMap((o) => ("failed" in o ? [o.server.name] : []));
      req.log.entry.reason = `servers did not take the listen: ${failed.join("; ")}`;
    }
    if (streams.length === 0) throw new UpstreamError(`no MCP server took the listen (${failed.join("; ")})`);
    // Each server acknowledges what it will send; the client is told once, when every server has (or has ended).
    const acknowledged = new Map<string, Record<string, unknown>>();
    let answer: unknown;
    let allAcknowledged: () => void = () => undefined;
    const acknowledgements = new Promise<void>((resolve) => (allAcknowledged = resolve));
    const settled = new Set<string>();
    const settle = (server: string) => {
      settled.add(server);
      if (settled.size === streams.length) allAcknowledged();
    };
    const waitMs = Math.max(...streams.map((s) => s.server.config.timeoutMs));
    const opening = Promise.race([acknowledgements, new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref())]).then(() => {
      const merged: Record<string, unknown> = {};
      const honouredUris = new Set<unknown>();
      for (const honoured of acknowledged.values()) {
        for (const flag of LISTEN_FLAGS) if (honoured[flag] === true) merged[flag] = true;
        if (Array.isArray(honoured.resourceSubscriptions)) for (const uri of honoured.resourceSubscriptions) honouredUris.add(uri);
      }
      // In the client's order, whichever server answered first.
      if (honouredUris.size > 0) merged.resourceSubscriptions = uris.filter((uri) => honouredUris.has(uri));
      // The servers name the subscription by the listen's id, which each got as the client sent it.
      const meta = { "io.modelcontextprotocol/subscriptionId": message.id };
      return `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: ACKNOWLEDGED, params: { notifications: merged, _meta: meta } })}\n\n`;
    });
    return mergeEventStreams(
      streams,
      req.log,
      (server, log) => ({
        allows: allowsFor(req.judge, server, log),
        log,
        carriesServerRequests: options.carriesServerRequests,
        maxMessageBytes: options.maxMessageBytes,
        answersPost: false,
        rewrite: (m) => {
          if (isObject(m) && m.method === ACKNOWLEDGED) {
            const params = isObject(m.params) && isObject(m.params.notifications) ? m.params.notifications : {};
            acknowledged.set(server, params);
            settle(server);
            return MERGED_ELSEWHERE;
          }
          // Each server's answer to the listen ends its part; the client gets one, when every part has ended.
          if (isObject(m) && m.id === message.id && ("result" in m || "error" in m)) {
            answer = m;
            return MERGED_ELSEWHERE;
          }
          return withClientFacingId(m, server);
        },
        rewriteEventId: (id) => clientFacingEventId(server, id),
      }),
      options.keepAliveMs,
      {
        opening,
        partEnded: settle,
        closing: () => {
          return answer === undefined ? undefined : `event: message\ndata: ${JSON.stringify(answer)}\n\n`;
        },
      },
    );
  }

  async function post(req: AggregatedRequest, session: AggregateSession | undefined): Promise<Response> {
    const body = (req.post as JsonRpcPost).parsed;
    if (body.batch) {
      throw new ProtocolError(400, RpcCode.InvalidRequest, "Invalid Request: batches are not accepted on the aggregated endpoint (send one message per request, or use a server's own endpoint)", "batch on the aggregated endpoint");
    }
    const message = body.messages[0] as JsonRpcMessage;
    if (message.method === undefined) return answerServer(req, session, message);
    // Disguised methods, tasks and what the front door cannot carry are refused as on every endpoint; items of routed
    // methods are judged once their server is known, malformed references refused now, in the words every endpoint uses.
    const routed = ROUTED_METHODS.has(message.method);
    const verdict = authorizeBody(body, routed ? () => ({ allowed: true, rule: undefined, explanation: "judged once routed" }) : req.judge, req.log, options.notCarried);
    if (!verdict.allowed) return refusalResponse(verdict, body, req.log);
    const method = message.method;
    if (method === "subscriptions/listen") return listen(req, session, message);
    if (method === "initialize" || method === "server/discover") return handshake(req, message);
    if (MERGED_LISTS.has(method)) return mergedList(req, session, message);
    if (method === "ping") {
      req.log.write(200);
      return jsonResponse({ jsonrpc: "2.0", id: message.id, result: {} }, 200);
    }
    if (method === "logging/setLevel" || message.id === undefined) return broadcast(req, session, message);
    if (routed) {
      const target = await route(req, session, message);
      if ("unknown" in target) return refuseUnknown(req, message, target.unknown);
      const routedBody = { batch: false, messages: [target.message], duplicateKeys: false };
      const judged = authorizeBody(routedBody, judgeFor(req.judge, target.server.name), req.log, options.notCarried);
      // A denied item is refused under the name the client used, as one no server owns is.
      if (!judged.allowed) return refusalResponse({ allowed: false, responses: judged.responses.map((r) => shownInRefusal(r, target.shown)) }, routedBody, req.log);
      return forward(req, session, target.server, target.message);
    }
    req.log.entry.reason = `method ${JSON.stringify(method)} is not served by the aggregated endpoint`;
    req.log.write(200);
    return jsonResponse(errorResponse(message.id, RpcCode.MethodNotFound, `Method not found: ${method}`), 200);
  }

  /**
   * A stream resumed with `Last-Event-ID`: the server whose event it names is asked to replay after its own id, and
   * its stream alone is the answer (another server never sees the id). An id the gateway did not write resumes
   * nothing: the client gets the merged stream from now on.
   */
  async function resume(req: AggregatedRequest, session: AggregateSession | undefined, server: BackendServer, lastEventId: string): Promise<Response> {
    req.log.entry.server = server.name;
    const headers = [...(await headersFor(server, req, session)), ["last-event-id", lastEventId] as const];
    const upstream = await forwardToBackend(req.request, undefined, server.config, headers, ["mcp-name", "mcp-method"]);
    const response = await filteredResponse(upstream, {
      allows: allowsFor(req.judge, server.name, req.log),
      log: req.log,
      carriesServerRequests: options.carriesServerRequests,
      maxMessageBytes: options.maxMessageBytes,
      answersPost: false,
      keepAliveMs: options.keepAliveMs,
      rewrite: (m) => withClientFacingId(m, server.name),
      rewriteEventId: (id) => clientFacingEventId(server.name, id),
    });
    response.headers.delete("mcp-session-id");
    return response;
  }

  async function get(req: AggregatedRequest, session: AggregateSession | undefined): Promise<Response> {
    const lastEventId = req.request.headers.get("last-event-id");
    const origin = lastEventId === null ? undefined : eventIdOrigin(lastEventId, names);
    const resumed = origin && participants(session).find((s) => s.name === origin.server);
    if (origin && resumed) return resume(req, session, resumed, origin.id);
    type Opened = { server: BackendServer; upstream: UpstreamResponse } | { server: BackendServer; failed: string };
    const opened = await Promise.all(
      participants(session).map(async (server): Promise<Opened> => {
        try {
          const upstream = await forwardToBackend(req.request, undefined, server.config, await headersFor(server, req, session), ["last-event-id", "mcp-name", "mcp-method"]);
          return { server, upstream };
        } catch (err) {
          return { server, failed: (err as Error).message };
        }
      }),
    );
    const isStream = (o: Opened): o is { server: BackendServer; upstream: UpstreamResponse } =>
      "upstream" in o && o.upstream.response.ok && (o.upstream.response.headers.get("content-type") ?? "").toLowerCase().startsWith("text/event-stream");
    const streams = opened.filter(isStream);
    for (const o of opened) {
      if (isStream(o) || !("upstream" in o)) continue;
      const { upstream } = o as { upstream: UpstreamResponse };
      upstream.stopTimer();
      await upstream.response.body?.cancel();
    }
    if (streams.length === 0) {
      throw new ProtocolError(405, RpcCode.InvalidRequest, "Method not allowed", "no server of the aggregated endpoint offers a stream");
    }
    return mergeEventStreams(
      streams,
      req.log,
      (server, log) => ({
        allows: allowsFor(req.judge, server, log),
        log,
        carriesServerRequests: options.carriesServerRequests,
        maxMessageBytes: options.maxMessageBytes,
        answersPost: false,
        rewrite: (m) => withClientFacingId(m, server),
        rewriteEventId: (id) => clientFacingEventId(server, id),
      }),
      options.keepAliveMs,
    );
  }

  async function end(req: AggregatedRequest, session: AggregateSession | undefined): Promise<Response> {
    await Promise.all(
      participants(session).map(async (server) => {
        try {
          const upstream = await forwardToBackend(req.request, undefined, server.config, await headersFor(server, req, session), ["last-event-id", "mcp-name", "mcp-method"]);
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

  return {
    async handle(req: AggregatedRequest): Promise<Response> {
      const clientSessionId = req.request.headers.get("mcp-session-id");
      let session: AggregateSession | undefined;
      if (clientSessionId !== null) {
        await sessions.ready();
        session = await openSession(sessions, clientSessionId, req.identity);
        if (!session) throw new SessionNotFoundError("Mcp-Session-Id was not issued to this caller on this endpoint (another caller's, altered, or sealed with another key)");
      }
      if (req.request.method === "GET") return get(req, session);
      if (req.request.method === "DELETE") return end(req, session);
      return post(req, session);
    },
  };
}
