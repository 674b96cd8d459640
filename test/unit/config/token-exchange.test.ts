import { describe, expect, it } from "vitest";
import { configProblems as problems } from "../../support/config-problems.js";
import { loadConfigFromEnv } from "../../../functions/config/gateway-config.js";

const BASE = { JWT_ISSUER: "https://idp.example.com", JWT_AUDIENCE: "mcp-gateway", POLICY_FILE: "policies/walkthrough.yaml" };
const OKTA = { idp: "okta", issuer: "https://acme.okta.com/oauth2/aus1", clientId: "0oa-gw", clientSecret: { secretId: "gw-okta" }, audience: "api://jira", scope: ["jira.read", "jira.write"] };

const withExchange = (tokenExchange: unknown, extra: Record<string, unknown> = {}) => ({
  ...BASE,
  MCP_BACKENDS: JSON.stringify([{ name: "jira", url: "https://jira-mcp.internal/mcp", tokenExchange, ...extra }]),
});


describe("tokenExchange", () => {
  it("reads an Okta exchange with the preset's defaults", () => {
    expect(loadConfigFromEnv(withExchange(OKTA)).backends[0]?.tokenExchange).toEqual({
      flavor: "rfc8693",
      idp: "okta",
      endpoint: { issuer: "https://acme.okta.com/oauth2/aus1" },
      clientId: "0oa-gw",
      clientAuth: { method: "client_secret_basic", secret: { kind: "secretsmanager", secretId: "gw-okta" } },
      audience: "api://jira",
      resource: undefined,
      scope: "jira.read jira.write",
      requestedTokenType: "urn:ietf:params:oauth:token-type:access_token",
      subjectTokenType: "urn:ietf:params:oauth:token-type:access_token",
      header: "Authorization",
      timeoutMs: 10_000,
      reuseMarginSeconds: 60,
    });
  });

  it("reads Entra on-behalf-of with a private key from SSM and a token endpoint", () => {
    const exchange = loadConfigFromEnv(
      withExchange({ idp: "entra", tokenEndpoint: "https://login.microsoftonline.com/t/oauth2/v2.0/token", clientId: "app", privateKey: { ssmParameter: "/gw/key" }, scope: "api://jira/.default", header: "X-User-Token" }),
    ).backends[0]?.tokenExchange;
    expect(exchange).toMatchObject({
      flavor: "entra-obo",
      endpoint: { tokenEndpoint: new URL("https://login.microsoftonline.com/t/oauth2/v2.0/token") },
      clientAuth: { method: "private_key_jwt", key: { kind: "ssm", name: "/gw/key" } },
      scope: "api://jira/.default",
      requestedTokenType: undefined,
      header: "X-User-Token",
    });
  });

  it("names the field of each problem", () => {
    expect(problems(withExchange({ ...OKTA, issuer: undefined }))).toEqual([
      'MCP_BACKENDS[0] ("jira").tokenExchange needs exactly one of tokenEndpoint or issuer (whose OIDC discovery document names the token endpoint)',
    ]);
    expect(problems(withExchange({ ...OKTA, tokenEndpoint: "https://acme.okta.com/oauth2/aus1/v1/token" }))).toEqual([
      'MCP_BACKENDS[0] ("jira").tokenExchange needs exactly one of tokenEndpoint or issuer (whose OIDC discovery document names the token endpoint)',
    ]);
    expect(problems(withExchange({ ...OKTA, privateKey: { secretId: "k" } }))).toEqual([
      'MCP_BACKENDS[0] ("jira").tokenExchange needs exactly one of clientSecret or privateKey (how the gateway authenticates to the token endpoint)',
    ]);
    expect(problems(withExchange({ ...OKTA, clientSecret: { secretId: "a", ssmParameter: "/b" } }))).toEqual([
      'MCP_BACKENDS[0] ("jira").tokenExchange.clientSecret needs exactly one of secretId (Secrets Manager) or ssmParameter (SSM Parameter Store)',
    ]);
    expect(problems(withExchange({ ...OKTA, secret: "inline" }))).toEqual([expect.stringMatching(/^MCP_BACKENDS\[0\] \("jira"\)\.tokenExchange Unrecognized key: "secret"/)]);
    expect(problems(withExchange({ ...OKTA, clientId: undefined }))).toEqual([expect.stringMatching(/^MCP_BACKENDS\[0\] \("jira"\)\.tokenExchange\.clientId /)]);
    expect(problems(withExchange({ ...OKTA, issuer: "http://idp.example.com" }))).toEqual([
      'MCP_BACKENDS[0] ("jira").tokenExchange.issuer must use https (plain http is accepted on loopback addresses only)',
    ]);
  });

  it("holds each provider to what its grant needs", () => {
    expect(problems(withExchange({ ...OKTA, scope: undefined }))).toEqual(['MCP_BACKENDS[0] ("jira").tokenExchange.scope is required by okta\'s token exchange']);
    expect(problems(withExchange({ ...OKTA, idp: "entra" }))).toEqual(['MCP_BACKENDS[0] ("jira").tokenExchange.audience is not a parameter of Entra\'s on-behalf-of grant: name the downstream API in scope (api://<app-id>/.default)']);
    expect(problems(withExchange({ ...OKTA, flavor: "entra-obo" }))).toContain('MCP_BACKENDS[0] ("jira").tokenExchange.flavor is entra-obo, but idp okta exchanges tokens by rfc8693');
    expect(problems(withExchange({ ...OKTA, idp: undefined, audience: undefined, scope: undefined }))).toEqual(['MCP_BACKENDS[0] ("jira").tokenExchange needs audience, resource or scope: what the exchanged token is for']);
  });

  it("refuses a header another option of the server sends", () => {
    expect(problems(withExchange(OKTA, { credential: { header: "authorization", secretId: "c" } }))).toEqual([
      'MCP_BACKENDS[0] ("jira").tokenExchange.header is also credential.header (authorization); give each its own header',
    ]);
  });
});
