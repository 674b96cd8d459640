import { describe, expect, it } from "vitest";
import { configProblems as problems } from "../../support/config-problems.js";
import { loadConfigFromEnv } from "../../../functions/config/gateway-config.js";

const BASE = { JWT_ISSUER: "https://idp.example.com", JWT_AUDIENCE: "mcp-gateway", POLICY_FILE: "policies/walkthrough.yaml" };


const list = (entries: unknown) => ({ ...BASE, MCP_BACKENDS: JSON.stringify(entries) });

describe("MCP_BACKENDS", () => {
  it("reads each server with its own settings, the global timeout and signing key as defaults", () => {
    const config = loadConfigFromEnv({
      ...list([
        { name: "github", url: "https://github-mcp.internal/mcp", credential: { header: "X-Api-Key", secretId: "github-key" }, identityHeaders: { "X-User-Id": "sub" } },
        { name: "jira", url: "http://jira:8000/mcp", timeoutMs: 5000, credential: { header: "Authorization", ssmParameter: "/gw/jira", cacheSeconds: 60 }, token: { header: "X-Gateway-Token", claims: ["sub", "email"] } },
      ]),
      BACKEND_TIMEOUT_MS: "9000",
      BACKEND_TOKEN_KEY_SSM_PARAMETER: "/gw/token-key",
    });
    expect(config.backends).toEqual([
      {
        name: "github",
        url: new URL("https://github-mcp.internal/mcp"),
        timeoutMs: 9000,
        credential: { header: "X-Api-Key", source: { kind: "secretsmanager", secretId: "github-key" }, cacheSeconds: 300 },
        identityHeaders: [{ header: "X-User-Id", claim: "sub" }],
        token: undefined,
      },
      {
        name: "jira",
        url: new URL("http://jira:8000/mcp"),
        timeoutMs: 5000,
        credential: { header: "Authorization", source: { kind: "ssm", name: "/gw/jira" }, cacheSeconds: 60 },
        identityHeaders: [],
        token: { header: "X-Gateway-Token", key: { kind: "ssm", name: "/gw/token-key" }, audience: "http://jira:8000", ttlSeconds: 300, claims: ["sub", "email"] },
      },
    ]);
  });

  it("names the shorthand's server backend, or MCP_BACKEND_NAME", () => {
    expect(loadConfigFromEnv({ ...BASE, MCP_BACKEND_URL: "http://localhost:8000/mcp" }).backends.map((b) => b.name)).toEqual(["backend"]);
    expect(loadConfigFromEnv({ ...BASE, MCP_BACKEND_URL: "http://localhost:8000/mcp", MCP_BACKEND_NAME: "docs" }).backends.map((b) => b.name)).toEqual(["docs"]);
    expect(problems({ ...BASE, MCP_BACKEND_URL: "http://localhost:8000/mcp", MCP_BACKEND_NAME: "Docs_1" }).join("\n")).toContain("MCP_BACKEND_NAME must be 1 to 63 lower-case letters");
  });

  it.each([
    [[{ name: "a_b", url: "http://a/mcp" }], 'MCP_BACKENDS[0] ("a_b").name must be 1 to 63 lower-case letters, digits or - (no _'],
    [[{ name: "A", url: "http://a/mcp" }], 'MCP_BACKENDS[0] ("A").name must be'],
    [[{ name: "", url: "http://a/mcp" }], "MCP_BACKENDS[0].name must be"],
    [[{ url: "http://a/mcp" }], "MCP_BACKENDS[0].name is required"],
    [[{ name: "a", url: "http://a/mcp" }, { name: "jira", url: "ftp://jira" }], 'MCP_BACKENDS[1] ("jira").url must be an http or https URL'],
    [[{ name: "a", url: "http://a/mcp" }, { name: "a", url: "http://b/mcp" }], 'MCP_BACKENDS[1] ("a").name is already the name of MCP_BACKENDS[0]'],
    [[{ name: "a", url: "http://a/mcp", credential: { header: "X-Key" } }], 'MCP_BACKENDS[0] ("a").credential needs exactly one of secretId'],
    [[{ name: "a", url: "http://a/mcp", credential: { header: "Mcp-Session-Id", secretId: "s" } }], 'MCP_BACKENDS[0] ("a").credential.header must not be a header the gateway manages'],
    [[{ name: "a", url: "http://a/mcp", identityHeaders: { Host: "sub" } }], 'MCP_BACKENDS[0] ("a").identityHeaders.Host must not name a header the gateway manages'],
    [[{ name: "a", url: "http://a/mcp", identityHeaders: { "X User": "sub" } }], 'MCP_BACKENDS[0] ("a").identityHeaders.X User must be an HTTP header name'],
    [[{ name: "a", url: "http://a/mcp", token: { header: "X-Token" } }], 'MCP_BACKENDS[0] ("a").token needs the gateway\'s signing key'],
    [[{ name: "a", url: "http://a/mcp", timeout: 5 }], 'MCP_BACKENDS[0] ("a") Unrecognized key: "timeout"'],
    [[{ name: "a", url: "http://a/mcp", timeoutMs: 0 }], 'MCP_BACKENDS[0] ("a").timeoutMs'],
    [[], "MCP_BACKENDS must be a non-empty JSON list"],
    [{ name: "a" }, "MCP_BACKENDS must be a non-empty JSON list"],
  ])("refuses %j naming the entry and field", (entries, expected) => {
    expect(problems(list(entries)).join("\n")).toContain(expected);
  });

  it("refuses text that is not JSON, and the one-server variables beside the list", () => {
    expect(problems({ ...BASE, MCP_BACKENDS: "[{name: a}]" }).join("\n")).toContain("MCP_BACKENDS is not valid JSON");
    const found = problems({
      ...list([{ name: "a", url: "http://a/mcp" }]),
      MCP_BACKEND_URL: "http://b/mcp",
      BACKEND_CREDENTIAL_HEADER: "X-Key",
      BACKEND_CREDENTIAL_SECRET_ID: "k",
      BACKEND_IDENTITY_HEADERS: "X-User=sub",
    }).join("\n");
    expect(found).toContain("MCP_BACKEND_URL and MCP_BACKENDS are both set");
    expect(found).toContain("BACKEND_CREDENTIAL_HEADER applies to MCP_BACKEND_URL alone");
    expect(found).toContain("BACKEND_IDENTITY_HEADERS applies to MCP_BACKEND_URL alone");
  });

  it("requires one of the two forms", () => {
    expect(problems(BASE).join("\n")).toContain("MCP_BACKEND_URL or MCP_BACKENDS is required");
  });
});
