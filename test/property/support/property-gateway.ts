/**
 * The world each property runs in: a real identity provider (JWKS on loopback), the scripted backend on loopback
 * HTTP, and the real gateway built from environment-style settings, called in-process through its fetch core. The
 * policy file is re-read on every request (cache 0), so each run's policy is in force from its first request.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { loadConfigFromEnv } from "../../../functions/config/gateway-config.js";
import { createGatewayFromConfig } from "../../../functions/core/create-gateway-from-config.js";
import type { Gateway } from "../../../functions/core/gateway.js";
import { CollectingLogger, gatewaySettings } from "../../support/gateway.js";
import { startIdentityProvider } from "../../support/identity-provider.js";
import { tokenClaims, type RolesClaim } from "./arbitraries.js";
import { startScriptedBackend, type ScriptedBackend } from "./scripted-backend.js";

export interface PropertyGateway {
  gateway: Gateway;
  backend: ScriptedBackend;
  logger: CollectingLogger;
  /** Puts a policy document (YAML or JSON text) in force for the next request. */
  usePolicy(text: string): Promise<void>;
  /** A token for a caller with this roles claim, signed once and reused. */
  tokenFor(claim: RolesClaim): Promise<string>;
  close(): Promise<void>;
}

export async function startPropertyGateway(): Promise<PropertyGateway> {
  const idp = await startIdentityProvider();
  const backend = await startScriptedBackend();
  const policyDir = await mkdtemp(join(tmpdir(), "property-policy-"));
  const policyFile = join(policyDir, "policy.yaml");
  await writeFile(policyFile, "{}\n");
  const logger = new CollectingLogger();
  const gateway = createGatewayFromConfig(loadConfigFromEnv(gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile, POLICY_CACHE_SECONDS: "0" })), logger);
  await gateway.warmUp();
  const tokens = new Map<string, string>();
  return {
    gateway,
    backend,
    logger,
    usePolicy: (text) => writeFile(policyFile, text),
    async tokenFor(claim) {
      const claims = tokenClaims(claim);
      const key = JSON.stringify(claims);
      let token = tokens.get(key);
      if (!token) {
        token = await idp.token({ subject: "caller", claims });
        tokens.set(key, token);
      }
      return token;
    },
    async close() {
      await backend.close();
      await idp.close();
      await rm(policyDir, { recursive: true, force: true });
    },
  };
}

/** Registers a property file's set-up and tear-down (call at the top level); the world is ready once its tests run. */
export function usePropertyGateway(): PropertyGateway {
  const world = {} as PropertyGateway;
  beforeAll(async () => {
    Object.assign(world, await startPropertyGateway());
  });
  afterAll(() => world.close?.());
  return world;
}
