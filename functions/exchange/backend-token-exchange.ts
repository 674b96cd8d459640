/**
 * A server's token exchange as the gateway uses it: for each caller, the header carrying a token the identity
 * provider issued to that caller for this server, obtained by exchanging the caller's own token (which goes to the
 * provider, never to the server), reused while fresh. Rejects with the exchange's typed errors, so nothing is
 * forwarded without it.
 */
import type { TokenExchangeConfig } from "../config/token-exchange.js";
import type { GatewayLogger } from "../logging.js";
import { createClientAuthenticator } from "./client-authentication.js";
import { ExchangedTokens } from "./exchanged-tokens.js";
import { tokenEndpointOf } from "./token-endpoint.js";
import { requestExchange } from "./token-request.js";

export interface BackendTokenExchange {
  /** The header for this caller's token (`Authorization: Bearer <exchanged>` by default). */
  header(subjectToken: string): Promise<readonly [string, string]>;
  /** Reads the client credential and discovers the token endpoint ahead of the first request; failures are logged. */
  warmUp(): Promise<void>;
}

export interface BackendTokenExchangeOptions {
  /** Clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /** The most callers whose token is kept. Default 1,000. */
  maxCachedTokens?: number;
}

export function createBackendTokenExchange(config: TokenExchangeConfig, server: string, logger: GatewayLogger, options: BackendTokenExchangeOptions = {}): BackendTokenExchange {
  const now = options.now ?? Date.now;
  const endpoint = tokenEndpointOf(config, server, logger);
  const authenticate = createClientAuthenticator(config.clientId, config.clientAuth, server, logger);
  const tokens = new ExchangedTokens({ marginMs: config.reuseMarginSeconds * 1000, maxEntries: options.maxCachedTokens, now });
  const bearer = config.header.toLowerCase() === "authorization";
  return {
    async header(subjectToken) {
      const token = await tokens.get(subjectToken, async () => {
        const url = await endpoint();
        return requestExchange(config, server, subjectToken, url, await authenticate(url), now);
      });
      return [config.header, bearer ? `Bearer ${token}` : token] as const;
    },
    async warmUp() {
      await endpoint().then(authenticate).catch(() => undefined);
    },
  };
}
