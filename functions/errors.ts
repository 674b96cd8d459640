/**
 * Every failure the gateway can answer with, in one hierarchy.
 *
 * Each leaf names its HTTP status and JSON-RPC error code here, so the mapping from failure to response is
 * decided in exactly one place (see http/error-response.ts). `reason` is the precise cause for the access log;
 * `message` is what the client is told, and never carries internals or stack traces.
 */

/** Base class of every error the gateway turns into a response. */
export abstract class GatewayError extends Error {
  /** HTTP status sent to the client. */
  abstract readonly status: number;
  /** JSON-RPC error code placed in the response body. */
  abstract readonly rpcCode: number;
  /** Short machine-readable cause, logged as `reason` (never sent to the client). */
  readonly reason: string;

  constructor(message: string, reason: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.reason = reason;
  }
}

/** The caller did not prove who they are: 401 with a `WWW-Authenticate` challenge. */
export class AuthenticationError extends GatewayError {
  readonly status = 401;
  readonly rpcCode = -32001;
  /** True when a token was presented (the challenge then says `error="invalid_token"`). */
  readonly tokenPresented: boolean;

  constructor(reason: string, tokenPresented: boolean, options?: { cause?: unknown }) {
    super(tokenPresented ? "Unauthorized: the bearer token is not valid" : "Unauthorized: a bearer token is required", reason, options);
    this.tokenPresented = tokenPresented;
  }
}

/**
 * The token is valid but lacks scopes this gateway requires: 403 with `WWW-Authenticate: Bearer
 * error="insufficient_scope", scope="..."`, so an MCP client can ask the IdP for a token with them (step-up).
 */
export class InsufficientScopeError extends GatewayError {
  readonly status = 403;
  readonly rpcCode = -32001;
  readonly requiredScopes: readonly string[];
  constructor(missing: readonly string[], required: readonly string[]) {
    super("Forbidden: the token lacks required scopes", `token lacks required scope${missing.length === 1 ? "" : "s"}: ${missing.join(" ")}`);
    this.requiredScopes = required;
  }
}

/** The identity provider's keys could not be fetched, so no token can be checked: fail closed with 503. */
export class KeysUnavailableError extends GatewayError {
  readonly status = 503;
  readonly rpcCode = -32002;
  constructor(reason: string, options?: { cause?: unknown }) {
    super("Service unavailable: the identity provider's signing keys could not be fetched", reason, options);
  }
}

/** No authorization policy is loaded: every MCP request is refused (fail closed). */
export class PolicyUnavailableError extends GatewayError {
  readonly status = 503;
  readonly rpcCode = -32002;
  constructor(reason: string) {
    super("Service unavailable: no authorization policy is loaded", reason);
  }
}

/** The HTTP request or its JSON-RPC body is not something the gateway can authorize. */
export class ProtocolError extends GatewayError {
  readonly status: number;
  readonly rpcCode: number;
  constructor(status: number, rpcCode: number, message: string, reason: string) {
    super(message, reason);
    this.status = status;
    this.rpcCode = rpcCode;
  }
}

/** The backend MCP server could not be reached, failed, or answered something unusable: 502. */
export class UpstreamError extends GatewayError {
  readonly status = 502;
  readonly rpcCode = -32003;
  constructor(reason: string, options?: { cause?: unknown }) {
    super("Bad gateway: the MCP server could not be reached", reason, options);
  }
}

/** The backend MCP server did not answer within the configured time: 504. */
export class UpstreamTimeoutError extends GatewayError {
  readonly status = 504;
  readonly rpcCode = -32004;
  constructor(timeoutMs: number) {
    super("Gateway timeout: the MCP server did not answer in time", `backend did not answer within ${timeoutMs} ms`);
  }
}

/**
 * The identity provider refused to exchange the caller's token for one for this server (`invalid_grant`,
 * `consent_required`, `interaction_required`, Entra's AADSTS65001, ...): nothing is forwarded. A JSON-RPC request is
 * answered with this error in its body (HTTP 200, as a refused call is); anything else gets 403.
 */
export class TokenExchangeRefusedError extends GatewayError {
  readonly status = 403;
  readonly rpcCode = -32001;
  /** The provider's error code, with Entra's AADSTS number and suberror when it gave them. */
  readonly code: string;
  constructor(server: string, code: string, detail: string) {
    super(`Forbidden: the identity provider refused to issue a token for server ${JSON.stringify(server)} (${code})`, `token exchange for server ${JSON.stringify(server)} refused by the identity provider: ${code}${detail ? ` (${detail})` : ""}`);
    this.code = code;
  }
}

/**
 * The identity provider refused the scopes the exchange asks for this server (`invalid_scope`, `insufficient_scope`):
 * 403 with `WWW-Authenticate: Bearer error="insufficient_scope"`, nothing forwarded.
 */
export class TokenExchangeScopeError extends GatewayError {
  readonly status = 403;
  readonly rpcCode = -32001;
  readonly server: string;
  constructor(server: string, code: string, detail: string) {
    super(`Forbidden: the identity provider refused the scopes server ${JSON.stringify(server)} needs (${code})`, `token exchange for server ${JSON.stringify(server)} refused for scope: ${code}${detail ? ` (${detail})` : ""}`);
    this.server = server;
  }
}

/** The identity provider could not be reached for the exchange, or answered something unusable: 502, nothing forwarded. */
export class TokenExchangeUnavailableError extends GatewayError {
  readonly status = 502;
  readonly rpcCode = -32003;
  constructor(server: string, reason: string, options?: { cause?: unknown }) {
    super(`Bad gateway: no token could be obtained for server ${JSON.stringify(server)}`, `token exchange for server ${JSON.stringify(server)} failed: ${reason}`, options);
  }
}

/** The identity provider did not answer the exchange in time (`tokenExchange.timeoutMs`): 504, nothing forwarded. */
export class TokenExchangeTimeoutError extends GatewayError {
  readonly status = 504;
  readonly rpcCode = -32004;
  constructor(server: string, timeoutMs: number) {
    super(`Gateway timeout: the identity provider did not issue a token for server ${JSON.stringify(server)} in time`, `token exchange for server ${JSON.stringify(server)}: the identity provider did not answer within ${timeoutMs} ms`);
  }
}

/**
 * The client went away before the backend answered. Nobody receives the answer; the status (nginx's "client closed
 * request") keeps the log line and the metrics from blaming the backend.
 */
export class ClientClosedRequestError extends GatewayError {
  readonly status = 499;
  readonly rpcCode = -32000;
  constructor(options?: { cause?: unknown }) {
    super("Client closed the request", "client disconnected before the backend answered", options);
  }
}

/**
 * The client's `Mcp-Session-Id` was not issued to this caller by this gateway (another user's, altered, or sealed with
 * a key no longer in use): 404, as MCP answers an unknown session, so the client starts a new one.
 */
export class SessionNotFoundError extends GatewayError {
  readonly status = 404;
  readonly rpcCode = -32001;
  constructor(reason: string) {
    super("Session not found", reason);
  }
}

/** The key that binds sessions to callers could not be read, so no session can be opened or checked: 503. */
export class SessionKeyUnavailableError extends GatewayError {
  readonly status = 503;
  readonly rpcCode = -32002;
  constructor(reason: string) {
    super("Service unavailable: sessions cannot be checked right now", reason);
  }
}

/**
 * The request's `Origin` or `Host` is not one the gateway serves (DNS-rebinding protection, required of MCP servers):
 * 403, before anything else is looked at.
 */
export class ForbiddenOriginError extends GatewayError {
  readonly status = 403;
  readonly rpcCode = -32001;
  constructor(header: "Origin" | "Host", reason: string) {
    super(`Forbidden: this ${header} is not allowed`, reason);
  }
}

/**
 * The request did not come through the front door the gateway is deployed behind (its secret header is missing or
 * wrong): someone called the function's own URL directly. 403, before anything else is looked at.
 */
export class NotThroughFrontDoorError extends GatewayError {
  readonly status = 403;
  readonly rpcCode = -32001;
  constructor(reason: string) {
    super("Forbidden: requests must come through the gateway's front door", reason);
  }
}

/** The front door's secret could not be read, so no request can be checked: 503. */
export class EdgeSecretUnavailableError extends GatewayError {
  readonly status = 503;
  readonly rpcCode = -32002;
  constructor(reason: string) {
    super("Service unavailable: requests cannot be checked right now", reason);
  }
}

/** The route does not exist on this gateway. */
export class NotFoundError extends GatewayError {
  readonly status = 404;
  readonly rpcCode = -32601;
  constructor(path: string) {
    super("Not found", `no route for ${path}`);
  }
}

/** A configuration value is missing or invalid; raised at start (cold start, `serve`, synth), never per request. */
export class ConfigError extends Error {
  /** One line per problem, each naming the setting. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** A policy document could not be parsed, validated or compiled. */
export class PolicyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PolicyError";
  }
}
