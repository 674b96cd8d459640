/**
 * What an issuer may demand of its tokens beyond a valid signature, through the real gateway over HTTP: required
 * scopes (403 insufficient_scope with the step-up challenge), allowed client applications and required claims (401),
 * each per issuer. Every refusal is checked on the wire, in the access log, and behind the gateway (nothing relayed).
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startOidcProvider, type OidcProvider } from "../support/oidc-provider.js";

const BAD_TOKEN = "Unauthorized: the bearer token is not valid";

let backend: TestBackend;
let upstream: CountingProxy;
let policyFile: string;
let idp: OidcProvider;
let other: OidcProvider;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  backend = await startBackend();
  upstream = await startCountingProxy(backend.url);
  policyFile = join(await mkdtemp(join(tmpdir(), "requirements-")), "policy.yaml");
  await writeFile(policyFile, "tools:\n  echo: ['*']\n");
  idp = await startOidcProvider({ issuerPath: "/realms/acme" });
  other = await startOidcProvider({ issuerPath: "/realms/partner" });
});

afterAll(async () => {
  for (const g of gateways) await g.close();
  await upstream?.close();
  await backend?.close();
  await idp?.close();
  await other?.close();
});

async function gatewayFor(settings: Record<string, string>): Promise<TestGateway> {
  const started = await startGateway({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: policyFile, ...settings });
  gateways.push(started);
  return started;
}

const single = (extra: Record<string, string>) => gatewayFor({ JWT_ISSUER: idp.issuer, JWT_AUDIENCE: "mcp-gateway", ...extra });

/** POSTs initialize with the token; returns the response after checking what must hold for any answer. */
async function send(gateway: TestGateway, claims: JWTPayload, from: OidcProvider = idp): Promise<{ response: Response; relayed: string[] }> {
  const before = upstream.requests.length;
  const response = await postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${await from.token(claims)}` });
  return { response, relayed: upstream.requests.slice(before) };
}

async function expectAccepted(gateway: TestGateway, claims: JWTPayload, from: OidcProvider = idp): Promise<void> {
  const { response, relayed } = await send(gateway, claims, from);
  expect(response.status, JSON.stringify(claims)).toBe(200);
  await response.text(); // a streamed answer is logged when its stream ends
  expect(relayed).toEqual(["POST /mcp"]);
  expect(gateway.logger.last()).toMatchObject({ status: 200, subject: "jsmith", mcpMethod: "initialize", decision: "allowed" });
  expect(gateway.logger.last()).not.toHaveProperty("reason");
}

async function expectInsufficientScope(gateway: TestGateway, claims: JWTPayload, required: string, reason: string): Promise<void> {
  const { response, relayed } = await send(gateway, claims);
  expect(response.status, JSON.stringify(claims)).toBe(403);
  expect(response.headers.get("www-authenticate")).toBe(
    `Bearer error="insufficient_scope", scope="${required}", resource_metadata="${gateway.origin}/.well-known/oauth-protected-resource/mcp"`,
  );
  expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Forbidden: the token lacks required scopes" } });
  // The token itself is valid: the refusal names who was refused, and counts as a denial.
  expect(gateway.logger.last()).toMatchObject({ status: 403, httpMethod: "POST", path: "/mcp", reason, subject: "jsmith", decision: "denied" });
  expect(gateway.logger.lines.at(-1)).toMatchObject({ level: "warn", message: `request refused: ${reason}` });
  expect(relayed).toEqual([]);
}

async function expectUnauthorized(gateway: TestGateway, claims: JWTPayload, reason: string): Promise<void> {
  const { response, relayed } = await send(gateway, claims);
  expect(response.status, JSON.stringify(claims)).toBe(401);
  expect(response.headers.get("www-authenticate")).toBe(
    `Bearer resource_metadata="${gateway.origin}/.well-known/oauth-protected-resource/mcp", error="invalid_token"`,
  );
  expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32001, message: BAD_TOKEN } });
  expect(gateway.logger.last()).toMatchObject({ status: 401, decision: "denied", reason });
  expect(gateway.logger.last()).not.toHaveProperty("subject");
  expect(relayed).toEqual([]);
}

describe("required scopes (JWT_REQUIRED_SCOPES)", () => {
  it("in scp (JWT_SCOPES_CLAIM=scp): accepted as a space-separated string or a list; otherwise 403 insufficient_scope", async () => {
    const gateway = await single({ JWT_SCOPES_CLAIM: "scp", JWT_REQUIRED_SCOPES: "mcp.tools" });
    await expectAccepted(gateway, { scp: "openid mcp.tools profile" });
    await expectAccepted(gateway, { scp: ["profile", "mcp.tools"] });
    const lacks = "token lacks required scope: mcp.tools";
    await expectInsufficientScope(gateway, { scp: "openid profile" }, "mcp.tools", lacks);
    await expectInsufficientScope(gateway, { scp: ["mcp.tools.read", "MCP.TOOLS"] }, "mcp.tools", lacks);
    await expectInsufficientScope(gateway, {}, "mcp.tools", lacks);
    // The scope in another claim than the configured one does not count.
    await expectInsufficientScope(gateway, { scope: "mcp.tools" }, "mcp.tools", lacks);
    expect(backend.executed).toEqual([]);
  });

  it("from a preset's scopes claim (keycloak: scope), naming only the missing ones in the log and all in the challenge", async () => {
    const gateway = await single({ JWT_PRESET: "keycloak", JWT_REQUIRED_SCOPES: "mcp.tools, mcp.admin" });
    await expectAccepted(gateway, { scope: "openid mcp.admin mcp.tools" });
    await expectInsufficientScope(gateway, { scope: "openid mcp.tools" }, "mcp.tools mcp.admin", "token lacks required scope: mcp.admin");
    await expectInsufficientScope(gateway, { scp: "mcp.tools mcp.admin" }, "mcp.tools mcp.admin", "token lacks required scopes: mcp.tools mcp.admin");
  });

  it("applies per issuer: another issuer of the same gateway (JWT_ISSUERS) needs none", async () => {
    const gateway = await gatewayFor({
      JWT_ISSUERS: JSON.stringify([
        { issuer: idp.issuer, audience: "mcp-gateway", preset: "okta", requiredScopes: ["mcp.tools"] },
        { issuer: other.issuer, audience: "mcp-gateway", preset: "okta" },
      ]),
    });
    await expectInsufficientScope(gateway, { scp: ["openid"] }, "mcp.tools", "token lacks required scope: mcp.tools");
    await expectAccepted(gateway, { scp: ["openid"] }, other);
    await expectAccepted(gateway, { scp: ["mcp.tools"] });
  });

  it("answers 401, not 403, for an invalid token that also lacks the scope", async () => {
    const gateway = await single({ JWT_SCOPES_CLAIM: "scp", JWT_REQUIRED_SCOPES: "mcp.tools" });
    const before = upstream.requests.length;
    const response = await postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${await idp.token({ scp: "openid" }, { expiresIn: -60 })}` });
    expect(response.status).toBe(401);
    expect(gateway.logger.last().reason).toMatch(/^token expired: /);
    expect(upstream.requests.slice(before)).toEqual([]);
  });
});

describe("allowed client applications (JWT_CLIENT_IDS) and required claims (JWT_REQUIRED_CLAIMS)", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await single({ JWT_CLIENT_IDS: "app-a, app-b", JWT_REQUIRED_CLAIMS: "email" });
  });

  it("accepts a listed client in azp or, without azp, in client_id", async () => {
    await expectAccepted(gateway, { azp: "app-a", email: "j@example.com" });
    await expectAccepted(gateway, { client_id: "app-b", email: "j@example.com" });
  });

  it("refuses a client not listed with 401, naming it", async () => {
    await expectUnauthorized(gateway, { azp: "app-c", email: "j@example.com" }, 'client not allowed: "app-c" is not one of app-a, app-b');
    // azp is the client that asked for the token; a listed client_id beside it does not help.
    await expectUnauthorized(gateway, { azp: "app-c", client_id: "app-a", email: "j@example.com" }, 'client not allowed: "app-c" is not one of app-a, app-b');
    await expectUnauthorized(gateway, { email: "j@example.com" }, "client not allowed: undefined is not one of app-a, app-b");
  });

  it("refuses a token without a required claim with 401 (even from an allowed client)", async () => {
    await expectUnauthorized(gateway, { azp: "app-a" }, "token lacks required claim: email");
    await expectUnauthorized(gateway, { azp: "app-a", mail: "j@example.com" }, "token lacks required claim: email");
  });

  it("reads required claims by nested path, and names every missing one", async () => {
    const nested = await single({ JWT_REQUIRED_CLAIMS: "email, realm_access.roles" });
    await expectAccepted(nested, { email: "j@example.com", realm_access: { roles: [] } });
    await expectUnauthorized(nested, { realm_access: {} }, "token lacks required claims: email, realm_access.roles");
    expect(backend.executed).toEqual([]);
  });
});
