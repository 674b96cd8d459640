/**
 * Where a server's token exchange is sent: the configured `tokenEndpoint`, or the `token_endpoint` of the issuer's OIDC
 * discovery document (`<issuer>/.well-known/openid-configuration`), read once and kept for an hour (the last good
 * one kept when a reread fails). The document must name the configured issuer (OIDC Discovery §4.3) and an https
 * endpoint (http on loopback only): the gateway sends its client credentials there.
 */
import { RefreshingValue } from "../cache/refreshing-value.js";
import { isLoopbackUrl } from "../config/loopback.js";
import type { TokenExchangeConfig } from "../config/token-exchange.js";
import { GatewayError, TokenExchangeUnavailableError } from "../errors.js";
import type { GatewayLogger } from "../logging.js";
import { fetchFromProvider } from "./identity-provider-fetch.js";

/** How long a discovered endpoint is used before the document is read again. */
const DISCOVERY_MAX_AGE_MS = 3_600_000;

export type TokenEndpoint = () => Promise<URL>;

async function discover(issuer: string, server: string, timeoutMs: number): Promise<URL> {
  const { status, json } = await fetchFromProvider(new URL(`${issuer}/.well-known/openid-configuration`), { method: "GET" }, server, timeoutMs);
  if (status !== 200 || typeof json !== "object" || json === null) throw new Error(`the discovery document of ${issuer} could not be read (HTTP ${status})`);
  const document = json as { issuer?: unknown; token_endpoint?: unknown };
  if (document.issuer !== issuer) throw new Error(`the discovery document of ${issuer} names another issuer (${JSON.stringify(document.issuer)})`);
  const endpoint = typeof document.token_endpoint === "string" && URL.canParse(document.token_endpoint) ? new URL(document.token_endpoint) : undefined;
  if (!endpoint || !(endpoint.protocol === "https:" || (endpoint.protocol === "http:" && isLoopbackUrl(endpoint)))) {
    throw new Error(`the discovery document of ${issuer} names no usable token_endpoint (https required)`);
  }
  return endpoint;
}

export function tokenEndpointOf(config: TokenExchangeConfig, server: string, logger: GatewayLogger): TokenEndpoint {
  const { endpoint } = config;
  if ("tokenEndpoint" in endpoint) return async () => endpoint.tokenEndpoint;
  const discovered = new RefreshingValue<URL>(() => discover(endpoint.issuer, server, config.timeoutMs), {
    maxAgeMs: DISCOVERY_MAX_AGE_MS,
    onError: (err, keepingLastGood) =>
      logger.error(keepingLastGood ? "token endpoint discovery failed; keeping the last good endpoint" : "token endpoint discovery failed", {
        server,
        issuer: endpoint.issuer,
        error: err instanceof GatewayError ? err.reason : err instanceof Error ? err.message : String(err),
      }),
  });
  return async () => {
    const url = await discovered.get();
    if (!url) throw new TokenExchangeUnavailableError(server, `no token endpoint: OIDC discovery of ${endpoint.issuer} failed`);
    return url;
  };
}
