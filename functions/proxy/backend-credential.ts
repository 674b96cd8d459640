/**
 * The gateway's own credential for the backend (never the caller's token): read from SSM Parameter Store or Secrets
 * Manager, cached, refreshed, and the last good value kept when a refresh fails. With none ever read, requests are
 * refused with 502 rather than sent to the backend without it.
 */
import { RefreshingValue } from "../cache/refreshing-value.js";
import type { BackendCredentialConfig } from "../config/gateway-config.js";
import { UpstreamError } from "../errors.js";
import type { GatewayLogger } from "../logging.js";
import { describeSecret, readSecret } from "./secret-source.js";

export interface BackendCredential {
  /** The header name and value to add to a backend request; rejects with UpstreamError when none can be had. */
  header(): Promise<readonly [string, string]>;
}

export function createBackendCredential(config: BackendCredentialConfig, logger: GatewayLogger): BackendCredential {
  const value = new RefreshingValue<string>(() => readSecret(config.source), {
    maxAgeMs: config.cacheSeconds * 1000,
    onError: (err, keepingLastGood) =>
      logger.error(keepingLastGood ? "backend credential refresh failed; keeping the last good value" : "backend credential could not be read", {
        source: describeSecret(config.source),
        error: err instanceof Error ? err.message : String(err),
      }),
  });
  return {
    async header() {
      const current = await value.get();
      if (current === undefined) throw new UpstreamError(`backend credential unavailable (${describeSecret(config.source)})`);
      return [config.header, current.trim()] as const;
    },
  };
}
