/** The per-issuer `requireAtJwt` and `requireSub` settings carried from the CDK context into the function's environment. */
import { describe, expect, it } from "vitest";
import { loadConfigFromEnv } from "../../../functions/config/gateway-config.js";
import { functionEnvironment, settingsFromContext } from "../../../lib/gateway-settings.js";

describe("requireAtJwt in the CDK context", () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];
  const base = { issuer: "https://idp.example.com", audience: "mcp-gateway", backendUrl: "https://mcp.example.com/mcp" };

  it("becomes JWT_REQUIRE_AT_JWT in the function's environment (a cdk.json boolean too)", () => {
    for (const value of ["true", true]) {
      const settings = settingsFromContext(context({ ...base, requireAtJwt: value }), "Stack");
      expect(functionEnvironment(settings)).toMatchObject({ JWT_REQUIRE_AT_JWT: "true" });
      expect(loadConfigFromEnv(functionEnvironment(settings)).issuers[0]?.requireAtJwt).toBe(true);
    }
    expect(functionEnvironment(settingsFromContext(context(base), "Stack"))).not.toHaveProperty("JWT_REQUIRE_AT_JWT");
  });

  it("is refused under its context key when it is neither true nor false", () => {
    expect(() => settingsFromContext(context({ ...base, requireAtJwt: "yes" }), "Stack")).toThrow("'requireAtJwt' must be true or false");
  });
});

describe("requireSub in the CDK context", () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];
  const base = { issuer: "https://idp.example.com", audience: "mcp-gateway", backendUrl: "https://mcp.example.com/mcp" };

  it("is required by default, and false becomes JWT_REQUIRE_SUB=false in the function's environment (a cdk.json boolean too)", () => {
    expect(loadConfigFromEnv(functionEnvironment(settingsFromContext(context(base), "Stack"))).issuers[0]?.requireSub).toBe(true);
    for (const value of ["false", false]) {
      const settings = settingsFromContext(context({ ...base, requireSub: value }), "Stack");
      expect(functionEnvironment(settings)).toMatchObject({ JWT_REQUIRE_SUB: "false" });
      expect(loadConfigFromEnv(functionEnvironment(settings)).issuers[0]?.requireSub).toBe(false);
    }
  });

  it("is refused under its context key when it is neither true nor false", () => {
    expect(() => settingsFromContext(context({ ...base, requireSub: "no" }), "Stack")).toThrow("'requireSub' must be true or false");
  });
});
