/**
 * Settings carried from the CDK context into the function's environment: the per-issuer `requireAtJwt` and
 * `requireSub`, and the `backends` list.
 */
import { describe, expect, it } from "vitest";
import { loadConfigFromEnv } from "../../../functions/config/gateway-config.js";
import { ConfigError } from "../../../functions/errors.js";
import { KNOWN_CONTEXT_KEYS, refuseUnknownContextKeys } from "../../../lib/context-keys.js";
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

describe("backends in the CDK context", () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];
  const base = { issuer: "https://idp.example.com", audience: "mcp-gateway" };
  const secretArn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:github-mcp-key-AbC123";
  const servers = [
    { name: "github", url: "https://github-mcp.internal/mcp", credential: { header: "X-Api-Key", secretArn } },
    { name: "jira", url: "https://jira-mcp.internal/mcp", timeoutMs: 10_000, credential: { header: "X-Api-Key", ssmParameter: "/gw/jira-key" }, identityHeaders: { "X-User-Id": "sub" } },
  ];
  const problemsOf = (values: Record<string, unknown>): readonly string[] => {
    try {
      settingsFromContext(context({ ...base, ...values }), "Stack");
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.slice(0, -1);
      throw err;
    }
    return [];
  };

  it("reads a JSON list from -c, or a list from cdk.json, alike", () => {
    for (const backends of [JSON.stringify(servers), servers]) {
      const settings = settingsFromContext(context({ ...base, backends }), "Stack");
      expect(settings.backends).toEqual(servers);
      expect(settings.backendUrl).toBeUndefined();
      expect(functionEnvironment(settings)).not.toHaveProperty("MCP_BACKEND_URL");
    }
  });

  it("is a known context key", () => {
    expect(KNOWN_CONTEXT_KEYS).toContain("backends");
    expect(() => refuseUnknownContextKeys({ backends: "[]", backendUrl: "https://x" })).not.toThrow();
  });

  it("refuses backendUrl beside it, and entries the function would refuse, naming the entry and field", () => {
    expect(problemsOf({ backendUrl: "https://one.example.com/mcp", backends: JSON.stringify(servers) })).toEqual([
      "'backendUrl' and 'backends' are both set; choose one ('backendUrl' is the one-server shorthand)",
    ]);
    expect(problemsOf({ backends: '[{"name":"a","url":"https://a/mcp"},{"name":"jira","url":"ftp://jira/mcp"}]' })).toEqual([`'backends'[1] ("jira").url must be an http or https URL`]);
    expect(problemsOf({ backends: '[{"name":"a","url":"https://a/mcp","timeout":5000}]' })).toEqual([`'backends'[0] ("a") Unrecognized key: "timeout"`]);
    expect(problemsOf({ backends: "[{name: a}]" })[0]).toMatch(/^'backends' is not valid JSON/);
  });

  it("refuses a token, whose signing key context cannot give", () => {
    expect(problemsOf({ backends: '[{"name":"a","url":"https://a/mcp","token":{"header":"X-Gateway-Token"}}]' })).toEqual([
      `'backends'[0] ("a").token needs the gateway's signing key: set 'backendToken.key'`,
    ]);
  });

  it("takes a credential's secret by its complete ARN alone, so the grant is exact", () => {
    const withCredential = (credential: unknown) => JSON.stringify([{ name: "a", url: "https://a/mcp", credential }]);
    expect(problemsOf({ backends: withCredential({ header: "X-Api-Key", secretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:github-mcp-key" }) })).toEqual([
      `'backends'[0] ("a").credential.secretArn must be a secret's complete ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>), not "arn:aws:secretsmanager:eu-west-1:111122223333:secret:github-mcp-key"`,
    ]);
    expect(problemsOf({ backends: withCredential({ header: "X-Api-Key", secretId: "github-mcp-key" }) })[0]).toMatch(/^'backends'\[0\] \("a"\)\.credential has no field "secretId" here/);
    expect(problemsOf({ backends: withCredential({ header: "X-Api-Key", ssmParameter: "arn:aws:ssm:eu-west-1:111122223333:parameter/k" }) })[0]).toMatch(/\.credential\.ssmParameter must be a parameter's name/);
    expect(problemsOf({ backends: withCredential({ header: "X-Api-Key" }) })[0]).toMatch(/\.credential needs exactly one of secretId .* or ssmParameter/);
  });

  it("takes a token exchange's client secret and private key by complete ARN or parameter name alone", () => {
    const withExchange = (store: Record<string, unknown>) =>
      JSON.stringify([{ name: "a", url: "https://a/mcp", tokenExchange: { idp: "keycloak", issuer: "https://kc.example.com/realms/acme", clientId: "gw", audience: "a-mcp", ...store } }]);
    expect(problemsOf({ backends: withExchange({ clientSecret: { secretArn: "gateway-secret" } }) })).toEqual([
      `'backends'[0] ("a").tokenExchange.clientSecret.secretArn must be a secret's complete ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>), not "gateway-secret"`,
    ]);
    expect(problemsOf({ backends: withExchange({ privateKey: { secretId: "gateway-key" } }) })[0]).toMatch(/^'backends'\[0\] \("a"\)\.tokenExchange\.privateKey has no field "secretId" here/);
    expect(problemsOf({ backends: withExchange({ privateKey: { ssmParameter: "/gw/key" } }) })).toEqual([]);
  });

  it("refuses a server on the deployer's own machine", () => {
    expect(problemsOf({ backends: '[{"name":"a","url":"http://127.0.0.1:3000/mcp"}]' })).toEqual([
      `'backends'[0] ("a").url points at a loopback address (http://127.0.0.1:3000/mcp), which the deployed function cannot reach`,
    ]);
  });
});
