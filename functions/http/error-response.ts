/**
 * The one place where a failure becomes a response: status from the error class, a JSON-RPC error body (MCP clients
 * speak JSON-RPC, and the id is echoed when it is known), and the RFC 6750 / RFC 9728 challenge on 401.
 * The client gets the error's public message only; causes and stack traces stay in the log.
 */
import { AuthenticationError, GatewayError, InsufficientScopeError, TokenExchangeRefusedError, TokenExchangeScopeError } from "../errors.js";
import { RpcCode, errorResponse, type JsonRpcId } from "../mcp/jsonrpc.js";

export interface ErrorResponseContext {
  /** The JSON-RPC id of the request being answered, when known. */
  rpcId?: JsonRpcId | undefined;
  /** URL of the RFC 9728 metadata, placed in the 401 challenge; undefined when the request's URL could not be read. */
  resourceMetadataUrl: string | undefined;
}

export function jsonResponse(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

export function bearerChallenge(error: AuthenticationError, resourceMetadataUrl: string | undefined): string {
  // RFC 6750 §3.1: a request without a token gets no error code; one with a bad token gets invalid_token.
  const parts = resourceMetadataUrl === undefined ? [] : [`resource_metadata="${resourceMetadataUrl}"`];
  if (error.tokenPresented) parts.push(`error="invalid_token"`);
  return `Bearer ${parts.join(", ")}`;
}

/** Maps any thrown value to a response; anything that is not a GatewayError is a 500 with a generic message. */
export function errorToResponse(error: unknown, context: ErrorResponseContext): Response {
  if (!(error instanceof GatewayError)) {
    return jsonResponse(errorResponse(context.rpcId, RpcCode.InternalError, "Internal error"), 500);
  }
  const headers: Record<string, string> = {};
  if (error instanceof AuthenticationError) headers["www-authenticate"] = bearerChallenge(error, context.resourceMetadataUrl);
  if (error instanceof InsufficientScopeError) {
    headers["www-authenticate"] = `Bearer error="insufficient_scope", scope="${error.requiredScopes.join(" ")}", resource_metadata="${context.resourceMetadataUrl}"`;
  }
  if (error instanceof TokenExchangeScopeError) {
    // No scope= attribute: the scopes refused are the server's, which the caller's own token cannot be given.
    headers["www-authenticate"] = `Bearer error="insufficient_scope", error_description="the identity provider refused the scopes of server ${error.server}", resource_metadata="${context.resourceMetadataUrl}"`;
  }
  if (error.status === 503) headers["retry-after"] = "5";
  // RFC 7694: a server that refuses a request's content coding says which it accepts.
  if (error.status === 415) headers["accept-encoding"] = "identity";
  // A refused exchange answers a JSON-RPC request as a refused call is answered: its error, with 200.
  const status = error instanceof TokenExchangeRefusedError && context.rpcId !== undefined && context.rpcId !== null ? 200 : error.status;
  return jsonResponse(errorResponse(context.rpcId, error.rpcCode, error.message), status, headers);
}

/** The reason to log for any thrown value. */
export function logReason(error: unknown): string {
  if (error instanceof GatewayError) return error.reason;
  return `internal error: ${error instanceof Error ? error.message : String(error)}`;
}
