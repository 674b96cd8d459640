/**
 * One backend MCP server as the gateway uses it: its settings, and what the gateway adds to each request it sends
 * there (its own credential for it, a token naming the caller, a token the identity provider issued to the caller for
 * it in exchange for the caller's, the caller's identity headers). Never the caller's token: that stops at the gateway
 * (and, for an exchange, at the identity provider that issued it).
 */
import type { BackendConfig } from "../config/backends.js";
import type { GatewayLogger } from "../logging.js";
import type { Identity } from "../policy/types.js";
import { createBackendCredential } from "../proxy/backend-credential.js";
import { createBackendTokenMinter, type BackendTokenMinter } from "../proxy/backend-token.js";
import { identityHeaders } from "../proxy/identity-headers.js";
import { createBackendTokenExchange } from "../exchange/backend-token-exchange.js";

export type HeaderList = ReadonlyArray<readonly [string, string]>;

export interface BackendServer {
  readonly config: BackendConfig;
  readonly name: string;
  /** Mints the token naming the caller, when this server is sent one; its keys are served as the gateway's JWKS. */
  readonly token: BackendTokenMinter | undefined;
  /**
   * The headers the gateway adds for this caller (credential, token, exchanged token, identity), for a gateway at
   * `issuer`; `subjectToken` is the caller's verified bearer token, exchanged when this server's is (never sent here).
   */
  gatewayHeaders(identity: Identity, issuer: string, subjectToken: string): Promise<HeaderList>;
  /** Reads what this server's requests need ahead of the first one (cold start); failures are logged, not thrown. */
  warmUp(): Promise<void>;
}

export function createBackendServer(config: BackendConfig, logger: GatewayLogger): BackendServer {
  const ownCredential = config.credential ? createBackendCredential(config.credential, logger) : undefined;
  const token = config.token ? createBackendTokenMinter(config.token, logger) : undefined;
  const exchange = config.tokenExchange ? createBackendTokenExchange(config.tokenExchange, config.name, logger) : undefined;
  return {
    config,
    name: config.name,
    token,
    async gatewayHeaders(identity, issuer, subjectToken) {
      const [credentialHeader, tokenHeader, exchangedHeader] = await Promise.all([ownCredential?.header(), token?.header(identity, issuer), exchange?.header(subjectToken)]);
      return [
        ...(credentialHeader ? [credentialHeader] : []),
        ...(tokenHeader ? [tokenHeader] : []),
        ...(exchangedHeader ? [exchangedHeader] : []),
        ...identityHeaders(config.identityHeaders, identity),
      ];
    },
    async warmUp() {
      await Promise.all([ownCredential?.header().catch(() => undefined), token?.jwks(), exchange?.warmUp()]);
    },
  };
}
