/**
 * The gateway core: a web-standard `fetch(Request) → Response`, shared by every adapter (Lambda, local server).
 *
 * Request path: URL read → the front door's secret (when configured), Origin and Host checked → route (a server's own
 * endpoint `<MCP_PATH>/<name>`, or the aggregated endpoint `MCP_PATH`, which is the one server's when there is only
 * one) → bearer token → verified identity → body read → policy in force → on a server's endpoint: its session opened,
 * the body judged message by message with `target` that server, forwarded, list results filtered; on the aggregated
 * endpoint: each message routed to the server owning its item, judged likewise, or fanned out and merged
 * (aggregate/aggregated-endpoint.ts) → one access-log line.
 */
import type { TokenVerifier } from "../auth/token-verifier.js";
import { extractBearerToken } from "../auth/bearer.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { NotFoundError, PolicyUnavailableError, ProtocolError, SessionNotFoundError, UpstreamError } from "../errors.js";
import { AccessLog } from "../http/access-log.js";
import { Cors } from "../http/cors.js";
import type { EdgeSecretCheck } from "../http/edge-secret.js";
import { errorToResponse, jsonResponse, logReason } from "../http/error-response.js";
import { RequestOriginCheck } from "../http/request-origin.js";
import { METADATA_PATH, metadataUrl, protectedResourceMetadata, publicBase } from "../http/protected-resource.js";
import type { GatewayLogger } from "../logging.js";
import type { GatewayMetrics } from "../metrics.js";
import { RpcCode, errorResponse, singleRequestId, type JsonRpcId } from "../mcp/jsonrpc.js";
import { checkParamHeaders, checkRoutingHeaders } from "../mcp/routing-headers.js";
import type { CompiledPolicy } from "../policy/compile.js";
import { DefinitionPinning } from "../pins/definition-pinning.js";
import { pinnedUseVerdict } from "../pins/pinned-use.js";
import type { PinSet } from "../pins/pin-set.js";
import type { Identity, PolicyItem } from "../policy/types.js";
import { filteredResponse } from "../proxy/filtered-response.js";
import { createSessionBinding, type SessionBinding } from "../proxy/session-binding.js";
import { forwardToBackend } from "../proxy/upstream.js";
import { createAggregatedEndpoint } from "../aggregate/aggregated-endpoint.js";
import type { BackendServer, HeaderList } from "../servers/backend-server.js";
import { authorizeBody, refusalResponse, type NotCarried } from "./authorize-messages.js";
import { createJudge, type Judge } from "./judge.js";
import { readJsonRpcPost } from "./read-body.js";

/** Where the gateway publishes the keys of the tokens it mints for the backend. */
const JWKS_PATH = "/.well-known/jwks.json";

export interface GatewayDependencies {
  config: GatewayConfig;
  verifier: TokenVerifier;
  /** The policy in force; undefined when none could be loaded (every MCP request is then refused). */
  policies: { current(): Promise<CompiledPolicy | undefined> };
  logger: GatewayLogger;
  /** Receives every finished request (CloudWatch metrics on Lambda). Default: none. */
  metrics?: GatewayMetrics;
  /** The backend servers, in configuration order (at least one). */
  servers: readonly BackendServer[];
  /** Binds each MCP session id to the caller who opened it. Default: bound with a random key of this process. */
  sessions?: SessionBinding;
  /** The front door's secret every request must carry, when one is configured (EDGE_SECRET_HEADER). */
  edgeSecret?: EdgeSecretCheck;
}

/** What the hosting runtime can do; adapters set these, the core only obeys them. */
export interface GatewayOptions {
  /**
   * Whether the runtime streams responses, so it can hold a long-lived server-to-client stream and deliver a server's
   * requests during a call. A buffered Lambda cannot: GET is then answered 405, which MCP clients take as "no
   * standalone stream"; `subscriptions/listen` is refused; and a request the server sends during a call (sampling,
   * elicitation) ends the call with a JSON-RPC error instead of hanging until the timeout; and event streams get no
   * keep-alive comments (`SSE_KEEPALIVE_SECONDS`), which would only add bytes to a body the client receives whole.
   * Default true.
   */
  serverStreams?: boolean;
}

export interface Gateway {
  fetch(request: Request): Promise<Response>;
  /**
   * Answers a request its adapter could not turn into a web-standard Request (node's HTTP layer took it, but its Host
   * or target is no URL; a Lambda event whose header values a Request refuses): 400 with a JSON-RPC error, and the
   * one access-log line every request gets.
   * @param target the request target as received (path and query), for the log.
   */
  refuseUntranslatable(method: string, target: string, reason: string): Response;
  /** Fetches signing keys, the policy and the servers' credentials ahead of the first request, in parallel (cold start). */
  warmUp(): Promise<void>;
}

/** What a path serves: one server's own endpoint, or all of them together. */
type Endpoint = { path: string; server: BackendServer } | { path: string; aggregated: true };

/** `<MCP_PATH>/<name>` for each server; `MCP_PATH` for the one server, or for all of them together when several. */
function endpointsOf(mcpPath: string, servers: readonly BackendServer[]): Map<string, Endpoint> {
  const endpoints = new Map<string, Endpoint>();
  const base = mcpPath.replace(/\/+$/, "");
  for (const server of servers) endpoints.set(`${base}/${server.name}`, { path: `${base}/${server.name}`, server });
  const [only] = servers;
  endpoints.set(mcpPath, servers.length === 1 && only ? { path: mcpPath, server: only } : { path: mcpPath, aggregated: true });
  return endpoints;
}

/** The judge of one server's items: every item's target is the server's name. */
function judgeOfServer(judge: Judge, server: string): Judge {
  return (item) => judge({ ...item, target: server });
}

export function createGateway(deps: GatewayDependencies, options: GatewayOptions = {}): Gateway {
  const { config, verifier, policies, logger, servers } = deps;
  const sessions = deps.sessions ?? createSessionBinding(undefined, logger);
  const servedMethods = options.serverStreams === false ? ["POST", "DELETE"] : ["GET", "POST", "DELETE"];
  const requestOrigin = new RequestOriginCheck(config);
  // A buffered runtime cannot hold the long-lived stream a listen opens (2026-07-28), as it cannot hold a GET stream.
  const notCarried: NotCarried = new Map(options.serverStreams === false ? [["subscriptions/listen", "a buffered front door cannot hold a long-lived stream"]] : []);
  const cors = new Cors(config.corsAllowedOrigins);
  // A buffered runtime hands the client the body whole: keep-alive comments would only add bytes to it.
  const keepAliveMs = options.serverStreams === false ? 0 : config.sseKeepAliveSeconds * 1000;
  const endpoints = endpointsOf(config.mcpPath, servers);
  // One key signs every minted token, so any server's minter serves the gateway's JWKS.
  const tokenKeys = servers.find((server) => server.token)?.token;
  // What this instance saw each pinned server list, shared by every endpoint (pins/definition-pinning.ts).
  const pinning = new DefinitionPinning();
  const aggregated = createAggregatedEndpoint({
    pinning,
    servers,
    sessions,
    maxMessageBytes: config.maxBackendMessageBytes,
    carriesServerRequests: options.serverStreams !== false,
    keepAliveMs,
    notCarried,
  });

  async function handleMcp(request: Request, url: URL, log: AccessLog, endpoint: Endpoint, setRpcId: (id: JsonRpcId) => void): Promise<Response> {
    if (!servedMethods.includes(request.method)) {
      throw new ProtocolError(405, RpcCode.InvalidRequest, "Method not allowed", `HTTP method ${request.method} is not served on ${endpoint.path}`);
    }
    // Kept for a server whose tokens are exchanged for the caller's; it never reaches a server itself.
    const subjectToken = extractBearerToken(request, url);
    const identity: Identity = await verifier.verify(subjectToken);
    log.entry.subject = identity.subject;
    verifier.requireScopes(identity);
    const post = request.method === "POST" ? await readJsonRpcPost(request, config.maxBodyBytes) : undefined;
    const pendingRequestId = post ? singleRequestId(post.parsed) : undefined;
    if (pendingRequestId !== undefined) setRpcId(pendingRequestId);
    checkRoutingHeaders(request.headers, post?.parsed);
    const paramHeaders = checkParamHeaders(request.headers, post?.parsed);
    if ("aggregated" in endpoint) {
      const { judge, pins } = await policyFor(identity);
      return aggregated.handle({ request, post, identity, subjectToken, judge, pins, log, issuer: publicBase(config, url), paramHeaders });
    }
    const { server } = endpoint;
    log.entry.server = server.name;
    const backendSessionId = await openSession(request, identity, log, server.name);
    const { judge: policyJudge, pins } = await policyFor(identity);
    const judge = judgeOfServer(policyJudge, server.name);
    // Read once, when first needed: after the policy allowed the body (a pin check may need them before forwarding).
    let headers: Promise<HeaderList> | undefined;
    const serverHeaders = () =>
      (headers ??= server.gatewayHeaders(identity, publicBase(config, url), subjectToken).then((own) => [
        ...own,
        ...(backendSessionId === undefined ? [] : [["mcp-session-id", backendSessionId] as const]),
      ]));

    if (post) {
      const verdict = authorizeBody(post.parsed, judge, log, notCarried);
      if (!verdict.allowed) return refusalResponse(verdict, post.parsed, log);
      const pinned = await pinnedUseVerdict({ pinning, body: post.parsed, server, pins, log, request, headers: serverHeaders, maxMessageBytes: config.maxBackendMessageBytes, notCarried });
      if (!pinned.allowed) return refusalResponse(pinned, post.parsed, log);
    } else {
      log.entry.decision = "allowed";
    }

    const allows = pinning.listing((item: PolicyItem) => {
      const decision = judge(item);
      if (decision.dryRun && !decision.dryRun.allowed) log.countDryRunRemoved(1);
      return decision.allowed;
    }, server.name, pins, log);
    const upstream = await forwardToBackend(request, post?.text, server.config, [...(await serverHeaders()), ...paramHeaders]);
    const response = await filteredResponse(upstream, {
      allows,
      log,
      pendingRequestId,
      carriesServerRequests: options.serverStreams !== false,
      maxMessageBytes: config.maxBackendMessageBytes,
      answersPost: post !== undefined,
      keepAliveMs,
    });
    const issuedSessionId = response.headers.get("mcp-session-id");
    if (issuedSessionId !== null) response.headers.set("mcp-session-id", await sessions.seal(issuedSessionId, identity, server.name));
    return response;
  }

  /** The policy in force for this caller, and its pins; refused (503) when none is loaded: fail closed. */
  async function policyFor(identity: Identity): Promise<{ judge: Judge; pins: PinSet }> {
    const policy = await policies.current();
    if (!policy) throw new PolicyUnavailableError("no authorization policy is loaded (fail closed)");
    return { judge: createJudge(policy, identity, config.policyDryRun), pins: policy.pins };
  }

  /** The backend's session id for the client's `Mcp-Session-Id`, refused (404) unless it was issued to this caller. */
  async function openSession(request: Request, identity: Identity, log: AccessLog, server: string): Promise<string | undefined> {
    await sessions.ready();
    const clientSessionId = request.headers.get("mcp-session-id");
    if (clientSessionId === null) return undefined;
    const backendSessionId = await sessions.open(clientSessionId, identity, server);
    if (backendSessionId === undefined) {
      throw new SessionNotFoundError("Mcp-Session-Id was not issued to this caller on this endpoint (another caller's, another server's, altered, or sealed with another key)");
    }
    log.entry.sessionId = backendSessionId;
    return backendSessionId;
  }

  /** The MCP endpoint whose RFC 9728 document `path` is: the bare well-known path is `MCP_PATH`'s. */
  function metadataEndpoint(path: string): Endpoint | undefined {
    if (path === METADATA_PATH) return endpoints.get(config.mcpPath);
    return path.startsWith(`${METADATA_PATH}/`) ? endpoints.get(path.slice(METADATA_PATH.length)) : undefined;
  }

  async function handle(request: Request): Promise<Response> {
    const log = new AccessLog(logger, request, deps.metrics);
    const { url } = log;
    const path = log.entry.path;
    const endpoint = endpoints.get(path);
    let rpcId: JsonRpcId | undefined;
    try {
      if (!url) throw new ProtocolError(400, RpcCode.InvalidRequest, "Bad Request: the request's URL cannot be read (is the Host header a host name?)", `request URL ${JSON.stringify(request.url)} is not a valid URL`);
      await deps.edgeSecret?.check(request.headers);
      requestOrigin.check(request, url);
      const preflight = cors.preflight(request);
      if (preflight) return preflight;
      if (endpoint) {
        return await handleMcp(request, url, log, endpoint, (id) => {
          rpcId = id;
        });
      }
      if (path === JWKS_PATH && tokenKeys && (request.method === "GET" || request.method === "HEAD")) {
        const jwks = await tokenKeys.jwks();
        if (!jwks) throw new UpstreamError("backend token signing key unavailable");
        log.write(200);
        return jsonResponse(jwks, 200, { "cache-control": "max-age=300" });
      }
      const described = metadataEndpoint(path);
      if (described && (request.method === "GET" || request.method === "HEAD")) {
        log.write(200);
        return jsonResponse(protectedResourceMetadata({ ...config, mcpPath: described.path }, url), 200, { "cache-control": "max-age=300" });
      }
      throw new NotFoundError(path);
    } catch (error) {
      const challenged = { ...config, mcpPath: endpoint?.path ?? config.mcpPath };
      const response = errorToResponse(error, { rpcId, resourceMetadataUrl: url && metadataUrl(challenged, url) });
      if (response.status === 405) response.headers.set("allow", servedMethods.join(", "));
      log.entry.reason = logReason(error);
      if (response.status === 401 || response.status === 403 || response.status === 503) log.entry.decision = "denied";
      log.write(response.status);
      return response;
    }
  }

  return {
    async fetch(request) {
      return cors.decorate(request, await handle(request));
    },
    refuseUntranslatable(method, target, reason) {
      const log = new AccessLog(logger, { method, url: target, headers: new Headers() }, deps.metrics);
      log.entry.reason = `the request cannot be read: ${reason}`;
      log.write(400);
      return jsonResponse(errorResponse(null, RpcCode.InvalidRequest, "Bad Request: the request's host or target cannot be read"), 400);
    },
    async warmUp() {
      await Promise.all([
        verifier.warmUp(),
        policies.current(),
        ...servers.map((server) => server.warmUp()),
        sessions.warmUp(),
        deps.edgeSecret?.warmUp(),
      ]);
    },
  };
}
