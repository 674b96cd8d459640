/**
 * The gateway core: a web-standard `fetch(Request) → Response`, shared by every adapter (Lambda, local server).
 *
 * Request path: URL read → the front door's secret (when configured), Origin and Host checked → route → bearer token → verified identity → policy in force → JSON-RPC
 * body judged message by message → forwarded to the backend → list results filtered → one access-log line.
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
import { isMetadataPath, metadataUrl, protectedResourceMetadata, publicBase } from "../http/protected-resource.js";
import type { GatewayLogger } from "../logging.js";
import type { GatewayMetrics } from "../metrics.js";
import { RpcCode, errorResponse, singleRequestId, type JsonRpcId } from "../mcp/jsonrpc.js";
import { checkParamHeaders, checkRoutingHeaders } from "../mcp/routing-headers.js";
import type { CompiledPolicy } from "../policy/compile.js";
import type { Identity, PolicyItem } from "../policy/types.js";
import type { BackendCredential } from "../proxy/backend-credential.js";
import type { BackendTokenMinter } from "../proxy/backend-token.js";
import { filteredResponse } from "../proxy/filtered-response.js";
import { identityHeaders } from "../proxy/identity-headers.js";
import { createSessionBinding, type SessionBinding } from "../proxy/session-binding.js";
import { forwardToBackend } from "../proxy/upstream.js";
import { authorizeBody, type NotCarried } from "./authorize-messages.js";
import { createJudge } from "./judge.js";
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
  /** The gateway's own credential for the backend, when one is configured. */
  backendCredential?: BackendCredential;
  /** Mints a token naming the caller for each backend request, when configured; its keys are served as a JWKS. */
  backendToken?: BackendTokenMinter;
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
  /** Fetches signing keys, the policy and the backend credential ahead of the first request, in parallel (cold start). */
  warmUp(): Promise<void>;
}

export function createGateway(deps: GatewayDependencies, options: GatewayOptions = {}): Gateway {
  const { config, verifier, policies, logger } = deps;
  const sessions = deps.sessions ?? createSessionBinding(undefined, logger);
  const servedMethods = options.serverStreams === false ? ["POST", "DELETE"] : ["GET", "POST", "DELETE"];
  const requestOrigin = new RequestOriginCheck(config);
  // A buffered runtime cannot hold the long-lived stream a listen opens (2026-07-28), as it cannot hold a GET stream.
  const notCarried: NotCarried = new Map(options.serverStreams === false ? [["subscriptions/listen", "a buffered front door cannot hold a long-lived stream"]] : []);
  const cors = new Cors(config.corsAllowedOrigins);
  // A buffered runtime hands the client the body whole: keep-alive comments would only add bytes to it.
  const keepAliveMs = options.serverStreams === false ? 0 : config.sseKeepAliveSeconds * 1000;

  async function handleMcp(request: Request, url: URL, log: AccessLog, setRpcId: (id: JsonRpcId) => void): Promise<Response> {
    if (!servedMethods.includes(request.method)) {
      throw new ProtocolError(405, RpcCode.InvalidRequest, "Method not allowed", `HTTP method ${request.method} is not served on ${config.mcpPath}`);
    }
    const identity: Identity = await verifier.verify(extractBearerToken(request, url));
    log.entry.subject = identity.subject;
    verifier.requireScopes(identity);
    const post = request.method === "POST" ? await readJsonRpcPost(request, config.maxBodyBytes) : undefined;
    const pendingRequestId = post ? singleRequestId(post.parsed) : undefined;
    if (pendingRequestId !== undefined) setRpcId(pendingRequestId);
    checkRoutingHeaders(request.headers, post?.parsed);
    const paramHeaders = checkParamHeaders(request.headers, post?.parsed);
    const backendSessionId = await openSession(request, identity, log);

    const policy = await policies.current();
    if (!policy) throw new PolicyUnavailableError("no authorization policy is loaded (fail closed)");
    const judge = createJudge(policy, identity, config.policyDryRun);

    if (post) {
      const verdict = authorizeBody(post.parsed, judge, log, notCarried);
      if (!verdict.allowed) {
        const refusal = post.parsed.batch ? verdict.responses : verdict.responses[0];
        const status = verdict.responses.every((r) => r.id === null) ? 400 : 200;
        log.write(status);
        return jsonResponse(refusal, status);
      }
    } else {
      log.entry.decision = "allowed";
    }

    const allows = (item: PolicyItem) => {
      const decision = judge(item);
      if (decision.dryRun && !decision.dryRun.allowed) log.countDryRunRemoved(1);
      return decision.allowed;
    };
    const [credential, token] = await Promise.all([
      deps.backendCredential?.header(),
      deps.backendToken?.header(identity, publicBase(config, url)),
    ]);
    const upstream = await forwardToBackend(request, post?.text, config, [
      ...(credential ? [credential] : []),
      ...(token ? [token] : []),
      ...paramHeaders,
      ...identityHeaders(config.backendIdentityHeaders, identity),
      ...(backendSessionId === undefined ? [] : [["mcp-session-id", backendSessionId] as const]),
    ]);
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
    if (issuedSessionId !== null) response.headers.set("mcp-session-id", await sessions.seal(issuedSessionId, identity));
    return response;
  }

  /** The backend's session id for the client's `Mcp-Session-Id`, refused (404) unless it was issued to this caller. */
  async function openSession(request: Request, identity: Identity, log: AccessLog): Promise<string | undefined> {
    await sessions.ready();
    const clientSessionId = request.headers.get("mcp-session-id");
    if (clientSessionId === null) return undefined;
    const backendSessionId = await sessions.open(clientSessionId, identity);
    if (backendSessionId === undefined) {
      throw new SessionNotFoundError("Mcp-Session-Id was not issued to this caller (another caller's, altered, or sealed with another key)");
    }
    log.entry.sessionId = backendSessionId;
    return backendSessionId;
  }

  async function handle(request: Request): Promise<Response> {
    const log = new AccessLog(logger, request, deps.metrics);
    const { url } = log;
    const path = log.entry.path;
    let rpcId: JsonRpcId | undefined;
    try {
      if (!url) throw new ProtocolError(400, RpcCode.InvalidRequest, "Bad Request: the request's URL cannot be read (is the Host header a host name?)", `request URL ${JSON.stringify(request.url)} is not a valid URL`);
      await deps.edgeSecret?.check(request.headers);
      requestOrigin.check(request, url);
      const preflight = cors.preflight(request);
      if (preflight) return preflight;
      if (path === config.mcpPath) {
        return await handleMcp(request, url, log, (id) => {
          rpcId = id;
        });
      }
      if (path === JWKS_PATH && deps.backendToken && (request.method === "GET" || request.method === "HEAD")) {
        const jwks = await deps.backendToken.jwks();
        if (!jwks) throw new UpstreamError("backend token signing key unavailable");
        log.write(200);
        return jsonResponse(jwks, 200, { "cache-control": "max-age=300" });
      }
      if (isMetadataPath(config, path) && (request.method === "GET" || request.method === "HEAD")) {
        log.write(200);
        return jsonResponse(protectedResourceMetadata(config, url), 200, { "cache-control": "max-age=300" });
      }
      throw new NotFoundError(path);
    } catch (error) {
      const response = errorToResponse(error, { rpcId, resourceMetadataUrl: url && metadataUrl(config, url) });
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
        deps.backendCredential?.header().catch(() => undefined),
        deps.backendToken?.jwks(),
        sessions.warmUp(),
        deps.edgeSecret?.warmUp(),
      ]);
    },
  };
}
