/** Wires the real parts together from a validated configuration; both adapters start here. */
import { createTokenVerifier } from "../auth/token-verifier.js";
import { cacheVerifiedTokens } from "../auth/verified-token-cache.js";
import type { GatewayConfig } from "../config/gateway-config.js";
import { EdgeSecretCheck } from "../http/edge-secret.js";
import type { GatewayLogger } from "../logging.js";
import type { GatewayMetrics } from "../metrics.js";
import { PolicyStore } from "../policy/policy-store.js";
import { createPolicySource } from "../policy/sources.js";
import { createSessionBinding } from "../proxy/session-binding.js";
import { createBackendServer } from "../servers/backend-server.js";
import { createGateway, type Gateway, type GatewayOptions } from "./gateway.js";

export function createGatewayFromConfig(
  config: GatewayConfig,
  logger: GatewayLogger,
  options: GatewayOptions = {},
  metrics?: GatewayMetrics,
): Gateway {
  return createGateway(
    {
      config,
      // Identities of tokens seen recently are reused, within each token's validity (auth/verified-token-cache.ts).
      verifier: cacheVerifiedTokens(createTokenVerifier(config)),
      policies: new PolicyStore(createPolicySource(config.policySource), { cacheSeconds: config.policyCacheSeconds, logger, metrics }),
      logger,
      metrics,
      servers: config.backends.map((backend) => createBackendServer(backend, logger)),
      sessions: createSessionBinding(config.sessionKey, logger),
      edgeSecret: config.edgeSecret ? new EdgeSecretCheck(config.edgeSecret, logger) : undefined,
    },
    options,
  );
}
