/** The problems a configuration is refused with, for tests of its messages (fails the test if it is accepted). */
import { expect } from "vitest";
import { loadConfigFromEnv } from "../../functions/config/gateway-config.js";
import { ConfigError } from "../../functions/errors.js";

export function configProblems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfigFromEnv(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}
