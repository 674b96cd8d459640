/**
 * Several backend MCP servers, proven by synthesis: MCP_BACKENDS as the function reads it, one read grant per secret
 * or parameter (shared ones once, none for a server without a credential), the per-server endpoints output, cdk-nag
 * clean, and each wrong combination refused at synth with the entry and field it concerns.
 */
import { App, Duration, Stack, Validations } from "aws-cdk-lib";
import type { Template } from "aws-cdk-lib/assertions";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ssm from "aws-cdk-lib/aws-ssm";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfigFromEnv } from "../../functions/config/gateway-config.js";
import { ConfigError } from "../../functions/errors.js";
import type { BackendSetting } from "../../lib/backends-context.js";
import { McpSsoGateway, type McpSsoGatewayProps } from "../../lib/mcp-sso-gateway.js";
import { SETTINGS, functionVariables, policyStatements, readable, synthConstruct, synthSettings, synthStack } from "../support/synth-stack.js";

const ONE_SERVER = { ...SETTINGS, backendUrl: undefined };
const GITHUB_KEY_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:github-mcp-key-AbC123";

/** What each statement that reads a secret or a parameter lets the function read, written out. */
function readGrants(template: Template): string[] {
  return policyStatements(template)
    .filter((s) => JSON.stringify(s.Action).match(/secretsmanager:GetSecretValue|ssm:GetParameter"/))
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(readable));
}

/** The problems a construct with these props is refused with (none: it was built). */
function refusals(configure: (stack: Stack) => Partial<McpSsoGatewayProps>): readonly string[] {
  const stack = new Stack(new App(), "Refused");
  try {
    new McpSsoGateway(stack, "Gateway", { ...ONE_SERVER, frontDoor: "httpApi", ...configure(stack) });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.slice(0, -1);
    throw err;
  }
  return [];
}

describe("several backend servers on the construct", () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synthConstruct("httpApi", (stack) => {
      const shared = new secretsmanager.Secret(stack, "SharedKey");
      const jira = ssm.StringParameter.fromSecureStringParameterAttributes(stack, "JiraKey", { parameterName: "/gw/jira-key" });
      return {
        backendUrl: undefined,
        backendToken: { key: new secretsmanager.Secret(stack, "TokenKey") },
        backends: [
          { name: "github", url: "https://github-mcp.internal/mcp", timeout: Duration.seconds(10), credential: { header: "X-Api-Key", secret: shared }, identityHeaders: { "X-User-Id": "sub" } },
          { name: "jira", url: "https://jira-mcp.internal/mcp", credential: { header: "X-Api-Key", parameter: jira }, token: { header: "Authorization", audience: "jira", ttl: Duration.minutes(2), claims: ["sub", "email"] } },
          { name: "wiki", url: "https://wiki-mcp.internal/mcp", credential: { header: "X-Wiki-Key", secret: shared } },
          { name: "open", url: "https://open-mcp.internal/mcp" },
        ],
      };
    }));
  });

  it("writes MCP_BACKENDS, each credential named by the secret's ARN or the parameter's name, and none of the one-server variables", () => {
    const variables = functionVariables(template);
    expect(JSON.parse(readable(variables.MCP_BACKENDS))).toEqual([
      { name: "github", url: "https://github-mcp.internal/mcp", timeoutMs: 10_000, credential: { header: "X-Api-Key", secretId: "{SharedKey}" }, identityHeaders: { "X-User-Id": "sub" } },
      { name: "jira", url: "https://jira-mcp.internal/mcp", credential: { header: "X-Api-Key", ssmParameter: "/gw/jira-key" }, token: { header: "Authorization", audience: "jira", ttlSeconds: 120, claims: ["sub", "email"] } },
      { name: "wiki", url: "https://wiki-mcp.internal/mcp", credential: { header: "X-Wiki-Key", secretId: "{SharedKey}" } },
      { name: "open", url: "https://open-mcp.internal/mcp" },
    ]);
    expect(readable(variables.BACKEND_TOKEN_KEY_SECRET_ID)).toBe("{TokenKey}");
    expect(variables.BACKEND_TIMEOUT_MS).toBe("25000");
    for (const name of ["MCP_BACKEND_URL", "MCP_BACKEND_NAME", "BACKEND_CREDENTIAL_HEADER", "BACKEND_CREDENTIAL_SECRET_ID", "BACKEND_TOKEN_HEADER", "BACKEND_TOKEN_CLAIMS", "BACKEND_IDENTITY_HEADERS"]) {
      expect(variables).not.toHaveProperty(name);
    }
  });

  it("writes what the function reads: the servers, credentials and token as configured", () => {
    // PUBLIC_URL is the front door's, resolved by CloudFormation; written out it is no URL, and not what is checked here.
    const { PUBLIC_URL: _, ...variables } = functionVariables(template);
    const written = Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, readable(value)]));
    const { backends } = loadConfigFromEnv(written);
    expect(backends.map((b) => [b.name, b.url.href, b.timeoutMs])).toEqual([
      ["github", "https://github-mcp.internal/mcp", 10_000],
      ["jira", "https://jira-mcp.internal/mcp", 25_000],
      ["wiki", "https://wiki-mcp.internal/mcp", 25_000],
      ["open", "https://open-mcp.internal/mcp", 25_000],
    ]);
    expect(backends[1]?.credential?.source).toEqual({ kind: "ssm", name: "/gw/jira-key" });
    expect(backends[1]?.token).toMatchObject({ header: "Authorization", audience: "jira", ttlSeconds: 120, claims: ["sub", "email"], key: { kind: "secretsmanager", secretId: "{TokenKey}" } });
    expect(backends[3]?.credential).toBeUndefined();
  });

  it("lets the function read each secret and parameter once: the shared secret one grant, the server without a credential none", () => {
    expect(readGrants(template).sort()).toEqual(
      ["{SharedKey}", "arn:{AWS::Partition}:ssm:eu-west-1:111122223333:parameter/gw/jira-key", "{TokenKey}", "{SessionKey}"].sort(),
    );
    expect(JSON.stringify(policyStatements(template))).not.toContain("*");
  });

  it("grants nothing beyond the session key when no server has a credential", () => {
    const { template: plain } = synthConstruct("httpApi", () => ({
      backendUrl: undefined,
      backends: [
        { name: "a", url: "https://a.internal/mcp" },
        { name: "b", url: "https://b.internal/mcp", identityHeaders: { "X-User-Email": "email" } },
      ],
    }));
    expect(readGrants(plain)).toEqual(["{SessionKey}"]);
  });
});

describe("several backend servers on the stack, as context gives them", () => {
  const backends: BackendSetting[] = [
    { name: "github", url: "https://github-mcp.internal/mcp", credential: { header: "X-Api-Key", secretArn: GITHUB_KEY_ARN } },
    { name: "jira", url: "https://jira-mcp.internal/mcp", timeoutMs: 5000, credential: { header: "X-Api-Key", ssmParameter: "/gw/jira-key" } },
    { name: "wiki", url: "https://wiki-mcp.internal/mcp", credential: { header: "X-Wiki-Key", secretArn: GITHUB_KEY_ARN } },
  ];
  let synthesized: ReturnType<typeof synthSettings>;
  beforeAll(() => {
    synthesized = synthSettings({ ...ONE_SERVER, frontDoor: "functionUrl", backends });
  });

  it("outputs each server's endpoint under the MCP endpoint, in the order given", () => {
    const outputs = synthesized.template.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
    const mcp = readable(outputs.McpEndpointUrl?.Value);
    expect(readable(outputs.McpServerEndpoints?.Value)).toBe(`${mcp}/github,${mcp}/jira,${mcp}/wiki`);
    expect(outputs.McpServerEndpoints?.Description).toMatch(/McpEndpointUrl\/<name>/);
  });

  it("grants the secret by its complete ARN, once for the two servers sharing it, and the parameter by its name", () => {
    expect(JSON.parse(readable(functionVariables(synthesized.template).MCP_BACKENDS))).toEqual([
      { name: "github", url: "https://github-mcp.internal/mcp", credential: { header: "X-Api-Key", secretId: GITHUB_KEY_ARN } },
      { name: "jira", url: "https://jira-mcp.internal/mcp", timeoutMs: 5000, credential: { header: "X-Api-Key", ssmParameter: "/gw/jira-key" } },
      { name: "wiki", url: "https://wiki-mcp.internal/mcp", credential: { header: "X-Wiki-Key", secretId: GITHUB_KEY_ARN } },
    ]);
    expect(readGrants(synthesized.template).sort()).toEqual(
      [GITHUB_KEY_ARN, "arn:{AWS::Partition}:ssm:{AWS::Region}:{AWS::AccountId}:parameter/gw/jira-key", "{SessionKey}"].sort(),
    );
  });

  it("passes cdk-nag's AwsSolutions checks with nothing unacknowledged", () => {
    const report = new AwsSolutionsChecks(synthesized.app).validateScope(synthesized.stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it("keeps the single-server form as it was: MCP_BACKEND_URL, no MCP_BACKENDS, no per-server output", () => {
    const { template } = synthStack("functionUrl");
    expect(functionVariables(template)).toMatchObject({ MCP_BACKEND_URL: SETTINGS.backendUrl });
    expect(functionVariables(template)).not.toHaveProperty("MCP_BACKENDS");
    expect(template.toJSON().Outputs).not.toHaveProperty("McpServerEndpoints");
  });
});

describe("refusals at synth, naming the entry and field", () => {
  const server = { name: "a", url: "https://a.internal/mcp" };

  it("refuses bad entries with the function's own rules, renamed to the setting", () => {
    expect(
      refusals(() => ({
        backends: [
          { name: "github", url: "https://github-mcp.internal/mcp" },
          { name: "jira", url: "ftp://jira.internal/mcp" },
          { name: "Jira_2", url: "https://jira2.internal/mcp" },
          { name: "github", url: "https://other.internal/mcp" },
          { name: "slow", url: "https://slow.internal/mcp", timeout: Duration.minutes(20) },
        ],
      })),
    ).toEqual([
      `'backends'[1] ("jira").url must be an http or https URL`,
      `'backends'[2] ("Jira_2").name must be 1 to 63 lower-case letters, digits or - (no _: it separates the server from the tool on the aggregated endpoint)`,
      `'backends'[3] ("github").name is already the name of 'backends'[0]; each server needs its own name`,
      expect.stringMatching(/^'backends'\[4\] \("slow"\)\.timeoutMs .*900000/),
    ]);
  });

  it("refuses both forms at once, and neither", () => {
    expect(refusals(() => ({ backendUrl: "https://one.internal/mcp", backends: [server] }))).toEqual([
      "'backendUrl' and 'backends' are both set; choose one ('backendUrl' is the one-server shorthand)",
    ]);
    expect(refusals(() => ({}))[0]).toMatch(/^'backendUrl' or 'backends' is required/);
    expect(refusals(() => ({ backends: [] }))[0]).toMatch(/^'backends' must be a non-empty JSON list/);
  });

  it("refuses a server on the deployer's own machine", () => {
    expect(refusals(() => ({ backends: [server, { name: "local", url: "http://localhost:3000/mcp" }] }))).toEqual([
      `'backends'[1] ("local").url points at a loopback address (http://localhost:3000/mcp), which the deployed function cannot reach`,
    ]);
  });

  it("refuses a token without the signing key, and a signing key no server's token uses", () => {
    expect(refusals(() => ({ backends: [server, { name: "b", url: "https://b.internal/mcp", token: { header: "X-Gateway-Token" } }] }))).toEqual([
      `'backends'[1] ("b").token needs the gateway's signing key: set 'backendToken.key'`,
    ]);
    expect(refusals((stack) => ({ backends: [server], backendToken: { key: new secretsmanager.Secret(stack, "K") } }))).toEqual([
      "'backendToken.key' signs the servers' tokens, but no server in 'backends' has a token: leave it out, or give a server a token",
    ]);
  });

  it("refuses the single server's credential and token settings beside backends, once each", () => {
    expect(refusals((stack) => ({ backends: [server], backendCredential: { header: "X-Api-Key", secret: new secretsmanager.Secret(stack, "K") } }))).toEqual([
      "'backendCredential' applies to 'backendUrl' alone; with 'backends', give each server's setting in its entry",
    ]);
    const withToken = { ...server, token: { header: "X-Gateway-Token" } };
    expect(refusals((stack) => ({ backends: [withToken], backendToken: { header: "X-Gateway-Token", key: new secretsmanager.Secret(stack, "K"), claims: ["sub"] } }))).toEqual([
      "'backendToken.header' applies to 'backendUrl' alone; with 'backends', give each server's setting in its entry",
      "'backendToken.claims' applies to 'backendUrl' alone; with 'backends', give each server's setting in its entry",
    ]);
  });

  it("refuses the signing key alone with backendUrl, which needs the token's header", () => {
    expect(refusals((stack) => ({ backendUrl: "https://one.internal/mcp", backendToken: { key: new secretsmanager.Secret(stack, "K") } }))).toEqual([
      "'backendToken.header' is required when 'backendToken.key' is set (which header carries the value?)",
    ]);
  });

  it("adds no cdk-nag finding of its own beyond those GatewayStack accepts", () => {
    const { app, stack } = synthConstruct("httpApi", (s) => ({
      backendUrl: undefined,
      backends: [{ name: "a", url: "https://a.internal/mcp", credential: { header: "X-Api-Key", secret: new secretsmanager.Secret(s, "AKey") } }],
    }));
    Validations.of(stack).acknowledge({ id: "AwsSolutions-SMG4", reason: "The test's secret is the user's: rotation is theirs to set up." });
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations.map((v) => v.ruleName)).toEqual(["AwsSolutions-L1", "AwsSolutions-APIG4"]);
  });
});

describe("token exchange per server", () => {
  const EXCHANGE_SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:gateway-okta-secret-XyZ789";
  const okta = { idp: "okta" as const, issuer: "https://acme.okta.com/oauth2/aus1", clientId: "0oa-gw", audience: "api://jira", scope: ["jira.read"] };

  it("writes the exchange for the function and grants exactly its secret or key, on the construct", () => {
    const { template } = synthConstruct("httpApi", (stack) => ({
      backendUrl: undefined,
      backends: [
        { name: "jira", url: "https://jira-mcp.internal/mcp", tokenExchange: { ...okta, clientSecret: new secretsmanager.Secret(stack, "OktaSecret"), clientSecretMethod: "client_secret_post", timeout: Duration.seconds(5) } },
        {
          name: "docs",
          url: "https://docs-mcp.internal/mcp",
          tokenExchange: { idp: "entra", issuer: "https://login.microsoftonline.com/t/v2.0", clientId: "app", scope: "api://docs/.default", privateKey: ssm.StringParameter.fromSecureStringParameterAttributes(stack, "EntraKey", { parameterName: "/gw/entra-key" }) },
        },
        { name: "open", url: "https://open-mcp.internal/mcp" },
      ],
    }));
    expect(JSON.parse(readable(functionVariables(template).MCP_BACKENDS))).toEqual([
      { name: "jira", url: "https://jira-mcp.internal/mcp", tokenExchange: { ...okta, clientSecret: { secretId: "{OktaSecret}", method: "client_secret_post" }, timeoutMs: 5000 } },
      { name: "docs", url: "https://docs-mcp.internal/mcp", tokenExchange: { idp: "entra", issuer: "https://login.microsoftonline.com/t/v2.0", clientId: "app", scope: "api://docs/.default", privateKey: { ssmParameter: "/gw/entra-key" } } },
      { name: "open", url: "https://open-mcp.internal/mcp" },
    ]);
    expect(readGrants(template).sort()).toEqual(["{OktaSecret}", "arn:{AWS::Partition}:ssm:eu-west-1:111122223333:parameter/gw/entra-key", "{SessionKey}"].sort());
  });

  it("takes the exchange from context, the secret by its complete ARN, and passes cdk-nag", () => {
    const synthesized = synthSettings({
      ...ONE_SERVER,
      frontDoor: "functionUrl",
      backends: [{ name: "jira", url: "https://jira-mcp.internal/mcp", tokenExchange: { ...okta, clientSecret: { secretArn: EXCHANGE_SECRET_ARN } } }],
    });
    expect(JSON.parse(readable(functionVariables(synthesized.template).MCP_BACKENDS))).toEqual([
      { name: "jira", url: "https://jira-mcp.internal/mcp", tokenExchange: { ...okta, clientSecret: { secretId: EXCHANGE_SECRET_ARN } } },
    ]);
    expect(readGrants(synthesized.template).sort()).toEqual([EXCHANGE_SECRET_ARN, "{SessionKey}"].sort());
    expect(new AwsSolutionsChecks(synthesized.app).validateScope(synthesized.stack).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it("refuses a wrong exchange with the function's words, naming the entry", () => {
    expect(refusals((stack) => ({ backends: [{ name: "jira", url: "https://jira-mcp.internal/mcp", tokenExchange: { ...okta, clientSecret: new secretsmanager.Secret(stack, "S"), privateKey: new secretsmanager.Secret(stack, "K") } }] }))).toEqual([
      `'backends'[0] ("jira").tokenExchange needs exactly one of clientSecret or privateKey (how the gateway authenticates to the token endpoint)`,
    ]);
  });
});
