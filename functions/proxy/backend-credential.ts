/**
 * The gateway's own credential for the backend (never the caller's token): read from SSM Parameter Store or Secrets
 * Manager, cached, refreshed, and the last good value kept when a refresh fails. With none ever read, requests are
 * refused with 502 rather than sent to the backend without it.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { RefreshingValue } from "../cache/refreshing-value.js";
import type { BackendCredentialConfig, BackendCredentialSource } from "../config/gateway-config.js";
import { UpstreamError } from "../errors.js";
import type { GatewayLogger } from "../logging.js";

export interface BackendCredential {
  /** The header name and value to add to a backend request; rejects with UpstreamError when none can be had. */
  header(): Promise<readonly [string, string]>;
}

function describe(source: BackendCredentialSource): string {
  return source.kind === "ssm" ? `SSM parameter ${source.name}` : `secret ${source.secretId}`;
}

async function readValue(source: BackendCredentialSource): Promise<string> {
  if (source.kind === "ssm") {
    const { Parameter } = await new SSMClient({}).send(new GetParameterCommand({ Name: source.name, WithDecryption: true }));
    if (!Parameter?.Value) throw new Error(`${describe(source)} has no value`);
    return Parameter.Value;
  }
  const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: source.secretId }));
  if (!SecretString) throw new Error(`${describe(source)} has no string value`);
  return SecretString;
}

export function createBackendCredential(config: BackendCredentialConfig, logger: GatewayLogger): BackendCredential {
  const value = new RefreshingValue<string>(() => readValue(config.source), {
    maxAgeMs: config.cacheSeconds * 1000,
    onError: (err, keepingLastGood) =>
      logger.error(keepingLastGood ? "backend credential refresh failed; keeping the last good value" : "backend credential could not be read", {
        source: describe(config.source),
        error: err instanceof Error ? err.message : String(err),
      }),
  });
  return {
    async header() {
      const current = await value.get();
      if (current === undefined) throw new UpstreamError(`backend credential unavailable (${describe(config.source)})`);
      return [config.header, current.trim()] as const;
    },
  };
}
