/**
 * An MCP client finding its way from the gateway to the identity provider, with the MCP SDK's own OAuth code: the 401
 * challenge points at the gateway's RFC 9728 metadata, which names the authorization server (AUTHORIZATION_SERVERS);
 * the SDK reads the issuer's discovery document there, gets a token at its token endpoint (client_credentials, with
 * the gateway's /mcp URL as the RFC 8707 resource), and comes back through the gateway with it.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { discoverOAuthProtectedResourceMetadata, discoverOAuthServerInfo, extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InvalidClientError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadConfigFromEnv } from "../../functions/config/gateway-config.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { DISCOVERY_PATH, startOidcProvider, type OidcProvider } from "../support/oidc-provider.js";

const POLICY = "tools:\n  echo: [reader]\n  search_docs: [reader]\n  add: [writer]\n  delete_everything: [admin]\n";
const METADATA_PATH = "/.well-known/oauth-protected-resource/mcp";

let backend: TestBackend;
let upstream: CountingProxy;
let idp: OidcProvider;
let gateway: TestGateway;
let policyFile: string;
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  backend = await startBackend();
  upstream = await startCountingProxy(backend.url);
  policyFile = join(await mkdtemp(join(tmpdir(), "oauth-")), "policy.yaml");
  await writeFile(policyFile, POLICY);
  idp = await startOidcProvider({
    issuerPath: "/realms/acme",
    clients: { "mcp-agent": { secret: "agent-secret", claims: { realm_access: { roles: ["reader"] } } } },
  });
  gateway = await startGateway({
    MCP_BACKEND_URL: upstream.url,
    POLICY_FILE: policyFile,
    JWT_ISSUER: idp.issuer,
    JWT_AUDIENCE: "mcp-gateway",
    JWT_PRESET: "keycloak",
    JWT_REQUIRED_SCOPES: "mcp.tools",
    AUTHORIZATION_SERVERS: idp.issuer,
  });
});

afterAll(async () => {
  for (const c of closers.reverse()) await c.close();
  await gateway?.close();
  await upstream?.close();
  await backend?.close();
  await idp?.close();
});

describe("RFC 9728 metadata as the MCP SDK reads it", () => {
  it("is found from the 401 challenge and by well-known discovery alike, naming /mcp and the configured issuer", async () => {
    const challenged = await postRaw(gateway.url, INITIALIZE);
    expect(challenged.status).toBe(401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(challenged);
    expect(resourceMetadataUrl?.href).toBe(`${gateway.origin}${METADATA_PATH}`);

    const expected = { resource: gateway.url, authorization_servers: [idp.issuer], bearer_methods_supported: ["header"] };
    expect(await discoverOAuthProtectedResourceMetadata(gateway.url, { resourceMetadataUrl })).toMatchObject(expected);
    expect(await discoverOAuthProtectedResourceMetadata(gateway.url)).toMatchObject(expected);
  });

  it("leads the SDK on to the issuer's own discovery document and token endpoint", async () => {
    const before = idp.requests(`/realms/acme${DISCOVERY_PATH}`);
    const info = await discoverOAuthServerInfo(gateway.url);
    expect(info.authorizationServerUrl).toBe(idp.issuer);
    expect(info.resourceMetadata).toMatchObject({ resource: gateway.url, authorization_servers: [idp.issuer] });
    expect(info.authorizationServerMetadata).toMatchObject({ issuer: idp.issuer, token_endpoint: idp.tokenEndpoint, jwks_uri: idp.jwksUri });
    expect(idp.requests(`/realms/acme${DISCOVERY_PATH}`)).toBe(before + 1);
  });

  it("lists every configured authorization server, in order; by default every https (or loopback http) issuer of JWT_ISSUERS", async () => {
    const two = await startGateway({
      MCP_BACKEND_URL: upstream.url,
      POLICY_FILE: policyFile,
      JWT_ISSUER: idp.issuer,
      JWT_AUDIENCE: "mcp-gateway",
      AUTHORIZATION_SERVERS: `${idp.issuer}, https://backup.example.com/realms/acme`,
    });
    closers.push(two);
    expect(await discoverOAuthProtectedResourceMetadata(two.url)).toMatchObject({
      resource: two.url,
      authorization_servers: [idp.issuer, "https://backup.example.com/realms/acme"],
    });

    // No gateway started here: the https issuers are not reachable from the tests, only the configuration is read.
    const issuers = [
      { issuer: "https://login.microsoftonline.com/tenant/v2.0", audience: "api://mcp", preset: "entra" },
      { issuer: idp.issuer, audience: "mcp-gateway" },
      { issuer: "https://acme.okta.com/oauth2/default", audience: "api://default", preset: "okta" },
    ];
    const config = loadConfigFromEnv({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: policyFile, JWT_ISSUERS: JSON.stringify(issuers) });
    expect(config.authorizationServers).toEqual(["https://login.microsoftonline.com/tenant/v2.0", idp.issuer, "https://acme.okta.com/oauth2/default"]);
  });
});

describe("an MCP SDK client with an OAuth provider", () => {
  it("gets a token from the advertised issuer after the 401, then lists and calls tools through the gateway", async () => {
    const logged = gateway.logger.requests().length;
    const provider = new ClientCredentialsProvider({ clientId: "mcp-agent", clientSecret: "agent-secret", scope: "mcp.tools", expectedIssuer: idp.issuer });
    const client = new Client({ name: "oauth-client", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider }));
    closers.push(client);

    // The client asked the issuer's token endpoint, once, for the scope and for the gateway's /mcp as the resource.
    expect(idp.tokenRequests.map((form) => Object.fromEntries(form))).toEqual([
      { grant_type: "client_credentials", scope: "mcp.tools", resource: gateway.url },
    ]);
    expect(provider.tokens()?.access_token).toEqual(expect.any(String));

    // The gateway saw: the tokenless attempt (401), the metadata read, then the same initialize with the token (logged
    // when its stream ends, which may be after the client has its result and has sent notifications/initialized).
    const lines = await vi.waitFor(() => {
      const since = gateway.logger.requests().slice(logged).filter((l) => l.mcpMethod !== "notifications/initialized" && l.httpMethod !== "DELETE");
      if (since.length < 3) throw new Error("initialize not logged yet");
      return since;
    });
    expect(lines.slice(0, 3)).toMatchObject([
      { httpMethod: "POST", path: "/mcp", status: 401, reason: "no bearer token found" },
      { httpMethod: "GET", path: METADATA_PATH, status: 200 },
      { httpMethod: "POST", path: "/mcp", status: 200, mcpMethod: "initialize", subject: "service-account-mcp-agent" },
    ]);

    // The token's realm roles (Keycloak preset) decide what the client sees and may call.
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo", "search_docs"]);
    backend.executed.length = 0;
    expect((await client.callTool({ name: "search_docs", arguments: { query: "sso" } })).content).toEqual([{ type: "text", text: "results for sso" }]);
    await expect(client.callTool({ name: "add", arguments: { a: 1, b: 2 } })).rejects.toThrow("Unknown tool: add");
    expect(backend.executed).toEqual([{ kind: "tool", name: "search_docs", arguments: { query: "sso" } }]);
  });

  it("gets nothing through when the issuer refuses its credentials", async () => {
    const relayed = upstream.requests.length;
    const logged = gateway.logger.requests().length;
    const tokenRequests = idp.tokenRequests.length;
    const provider = new ClientCredentialsProvider({ clientId: "mcp-agent", clientSecret: "wrong", scope: "mcp.tools", expectedIssuer: idp.issuer });
    const client = new Client({ name: "oauth-client", version: "1.0.0" });
    const failed = await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { authProvider: provider })).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(InvalidClientError);
    expect(provider.tokens()).toBeUndefined();
    // The SDK tries its credentials twice (auth() retries once after invalid_client), reading the metadata each time.
    expect(idp.tokenRequests.length - tokenRequests).toBe(2);
    expect(gateway.logger.requests().slice(logged)).toMatchObject([
      { httpMethod: "POST", path: "/mcp", status: 401, decision: "denied", reason: "no bearer token found" },
      { httpMethod: "GET", path: METADATA_PATH, status: 200 },
      { httpMethod: "GET", path: METADATA_PATH, status: 200 },
    ]);
    expect(upstream.requests.slice(relayed)).toEqual([]);
  });
});
