/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) for the MCP endpoint, and the URLs that point at it.
 * MCP clients read it after a 401 to learn which authorization server issues tokens for this gateway.
 */
import type { GatewayConfig } from "../config/gateway-config.js";

export const METADATA_PATH = "/.well-known/oauth-protected-resource";

/** The base URL clients reach the gateway at: `PUBLIC_URL`, or else the origin of the request's URL. */
export function publicBase(config: Pick<GatewayConfig, "publicUrl">, requestUrl: URL): string {
  return (config.publicUrl?.href ?? requestUrl.origin).replace(/\/+$/, "");
}

/** The MCP endpoint's public URL: the `resource` of the metadata. */
export function resourceUrl(config: Pick<GatewayConfig, "publicUrl" | "mcpPath">, requestUrl: URL): string {
  return `${publicBase(config, requestUrl)}${config.mcpPath}`;
}

/**
 * The metadata URL given in the 401 challenge. With a base URL at a host root this is exactly RFC 9728 §3.1's
 * location (the well-known prefix inserted before the resource's path). When the gateway sits under a path prefix
 * (an API Gateway stage: `PUBLIC_URL=https://host/prod`), the host-root location is not routed to the gateway, so
 * the challenge points under the prefix instead, where the gateway does answer; the challenge may name any URL.
 */
export function metadataUrl(config: Pick<GatewayConfig, "publicUrl" | "mcpPath">, requestUrl: URL): string {
  return `${publicBase(config, requestUrl)}${METADATA_PATH}${config.mcpPath}`;
}

/** The paths this gateway answers with the metadata document. */
export function isMetadataPath(config: Pick<GatewayConfig, "mcpPath">, path: string): boolean {
  return path === METADATA_PATH || path === `${METADATA_PATH}${config.mcpPath}`;
}

export function protectedResourceMetadata(
  config: Pick<GatewayConfig, "publicUrl" | "mcpPath" | "authorizationServers" | "scopesSupported">,
  requestUrl: URL,
): Record<string, unknown> {
  return {
    resource: resourceUrl(config, requestUrl),
    ...(config.authorizationServers.length > 0 ? { authorization_servers: config.authorizationServers } : {}),
    ...(config.scopesSupported.length > 0 ? { scopes_supported: config.scopesSupported } : {}),
    bearer_methods_supported: ["header"],
  };
}
