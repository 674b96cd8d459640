/**
 * Several identity providers at once, through the real gateway over HTTP: five local OIDC issuers with real keys on
 * loopback, each minting tokens shaped like its namesake's (Entra ID v2, Okta, Keycloak, Cognito, Auth0), the keys found
 * by OIDC discovery at a non-default jwks_uri, and one native-form policy whose roles each issuer carries in its own
 * claim. Every token also carries a decoy role claim granting more, so a list shows which claim was really read.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateSigningKey } from "../../functions/demo/identity-provider.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, connectClient, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { providerPaths, startOidcProvider, type OidcProvider, type TokenOptions } from "../support/oidc-provider.js";

const POLICY = `
description: one policy for every issuer; each issuer's roles claim decides
tools:
  echo: [reader, writer, admin]
  search_docs: [reader, admin]
  add: [writer, admin]
  delete_everything: [admin]
`;
const ENTRA_CLIENT = "6e1f3c52-8d1b-4d4f-9a57-2f1c0b7d9e10";
const COGNITO_CLIENT = "4lq2n7cognitoappclient";
const AUTH0_ROLES = "https://example.com/roles";
const BAD_TOKEN = "Unauthorized: the bearer token is not valid";

interface Shape {
  name: "entra" | "okta" | "keycloak" | "cognito" | "auth0";
  issuerPath: string;
  /** The JWT_ISSUERS entry, less the issuer. */
  entry: Record<string, unknown>;
  claims: JWTPayload;
  options?: TokenOptions;
  tools: string[];
}

const SHAPES: Shape[] = [
  {
    // Entra v2: app roles in `roles`, delegated scopes in `scp`; `aud` is the client GUID (or the Application ID URI).
    name: "entra",
    issuerPath: "/8f9d0a4e-tenant/v2.0",
    entry: { preset: "entra", audience: ["api://mcp-gateway", ENTRA_CLIENT], requiredScopes: "mcp.tools" },
    claims: { ver: "2.0", tid: "8f9d0a4e-tenant", azp: "cli-app", scp: "mcp.tools", roles: ["writer"], groups: ["admin"] },
    options: { audience: ENTRA_CLIENT, subject: "entra-user" },
    tools: ["echo", "add"],
  },
  {
    // Okta custom authorization server: groups in `groups`, scopes in `scp` as a list.
    name: "okta",
    issuerPath: "/oauth2/default",
    entry: { preset: "okta", audience: "api://default", requiredScopes: ["mcp.tools"] },
    claims: { cid: "0oa1okta", scp: ["mcp.tools"], groups: ["reader"], roles: ["admin"] },
    options: { audience: "api://default", subject: "okta-user" },
    tools: ["echo", "search_docs"],
  },
  {
    // Keycloak: realm roles nested in realm_access.roles.
    name: "keycloak",
    issuerPath: "/realms/acme",
    entry: { preset: "keycloak", audience: "mcp-gateway", requiredScopes: ["mcp.tools"] },
    claims: { azp: "mcp-cli", scope: "openid mcp.tools", realm_access: { roles: ["reader", "writer"] }, roles: ["admin"] },
    options: { subject: "keycloak-user" },
    tools: ["echo", "add", "search_docs"],
  },
  {
    // Cognito access token: no aud at all; the app client is in client_id; groups in cognito:groups.
    name: "cognito",
    issuerPath: "/us-east-1_Example",
    entry: { preset: "cognito", audience: COGNITO_CLIENT },
    claims: { token_use: "access", client_id: COGNITO_CLIENT, scope: "mcp/tools", username: "cog", "cognito:groups": ["reader"], roles: ["admin"] },
    options: { audience: null, subject: "cognito-user" },
    tools: ["echo", "search_docs"],
  },
  {
    // Auth0: roles in a namespaced custom claim; the issuer ends with a slash.
    name: "auth0",
    issuerPath: "/",
    entry: { preset: "auth0", rolesClaim: AUTH0_ROLES, audience: "https://mcp.example.com/api" },
    claims: { azp: "auth0-spa", scope: "mcp.tools", [AUTH0_ROLES]: ["admin"], roles: ["reader"] },
    options: { audience: "https://mcp.example.com/api", subject: "auth0|user" },
    tools: ["echo", "add", "delete_everything", "search_docs"],
  },
];

let backend: TestBackend;
let upstream: CountingProxy;
let policyFile: string;
let gateway: TestGateway;
const providers = new Map<Shape["name"], OidcProvider>();
const closers: Array<{ close(): Promise<void> }> = [];
const provider = (name: Shape["name"]) => providers.get(name) as OidcProvider;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  backend = await startBackend();
  upstream = await startCountingProxy(backend.url);
  policyFile = join(await mkdtemp(join(tmpdir(), "idps-")), "policy.yaml");
  await writeFile(policyFile, POLICY);
  for (const shape of SHAPES) providers.set(shape.name, await startOidcProvider({ issuerPath: shape.issuerPath }));
  const issuers = SHAPES.map((shape) => ({
    issuer: provider(shape.name).issuer,
    ...shape.entry,
    // Cognito publishes its keys at a fixed place: configured, not discovered.
    ...(shape.name === "cognito" ? { jwksUri: provider(shape.name).jwksUri } : {}),
  }));
  gateway = await startGateway({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: policyFile, JWT_ISSUERS: JSON.stringify(issuers) });
});

afterAll(async () => {
  for (const c of closers.reverse()) await c.close();
  await gateway?.close();
  await upstream?.close();
  await backend?.close();
  for (const p of providers.values()) await p.close();
});

async function client(url: string, token: string): Promise<Client> {
  const connected = await connectClient(url, token);
  closers.push(connected);
  return connected;
}

/** The access-log line matching `match`; a streamed answer is logged when its stream ends, maybe after the SDK's result. */
function logged(match: (line: Record<string, unknown>) => boolean, target: TestGateway = gateway): Promise<Record<string, unknown>> {
  return vi.waitFor(() => {
    const line = target.logger.requests().findLast(match);
    if (!line) throw new Error("not logged yet");
    return line;
  });
}

/** Sends initialize with `token` and asserts a 401 refusal that reached nothing behind the gateway. */
async function expectRefused(token: string, reason: RegExp, target: TestGateway = gateway): Promise<void> {
  const relayed = upstream.requests.length;
  const executed = backend.executed.length;
  const response = await postRaw(target.url, INITIALIZE, bearer(token));
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toBe(
    `Bearer resource_metadata="${target.origin}/.well-known/oauth-protected-resource/mcp", error="invalid_token"`,
  );
  expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32001, message: BAD_TOKEN } });
  expect(target.logger.last()).toMatchObject({ status: 401, path: "/mcp", decision: "denied" });
  expect(target.logger.last().reason).toMatch(reason);
  expect(upstream.requests.slice(relayed)).toEqual([]);
  expect(backend.executed.length).toBe(executed);
}

describe("OIDC discovery (JWT_ISSUER and JWT_AUDIENCE only, no JWKS_URI)", () => {
  it("finds the keys at the discovered, non-default jwks_uri and accepts the issuer's tokens", async () => {
    const idp = await startOidcProvider({ issuerPath: "/realms/solo" });
    closers.push(idp);
    const solo = await startGateway({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: policyFile, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: "mcp-gateway" });
    closers.push(solo);
    const paths = providerPaths(idp);
    // Warm-up read the discovery document once, then the JWKS it names; aws-jwt-verify's default
    // (<issuer>/.well-known/jwks.json) was never asked for.
    expect([idp.requests(paths.discovery), idp.requests(paths.jwks), idp.requests()]).toEqual([1, 1, 2]);
    expect(paths.jwks).toBe("/realms/solo/protocol/openid-connect/certs");

    for (const subject of ["ann", "bob", "cid"]) {
      const response = await postRaw(solo.url, INITIALIZE, bearer(await idp.token({ roles: ["reader"] }, { subject })));
      expect(response.status).toBe(200);
      await response.text(); // a streamed answer is logged when its stream ends
      expect(solo.logger.last()).toMatchObject({ status: 200, subject, mcpMethod: "initialize", decision: "allowed" });
    }
    // Keys and the discovered jwks_uri are cached: three tokens, no further fetch.
    expect(idp.requests()).toBe(2);
  });

  it("fails closed (503, never accepts) when the discovery document names another issuer", async () => {
    // The document points at a JWKS that does hold the signing key: only the issuer check stands in the way.
    const idp = await startOidcProvider({ issuerPath: "/realms/acme", documentIssuer: "https://evil.example.com/realms/acme" });
    closers.push(idp);
    const misled = await startGateway({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: policyFile, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: "mcp-gateway" });
    closers.push(misled);
    const paths = providerPaths(idp);
    const relayed = upstream.requests.length;
    for (const attempt of [1, 2]) {
      const response = await postRaw(misled.url, INITIALIZE, bearer(await idp.token({ roles: ["admin"] })));
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(response.headers.get("www-authenticate")).toBeNull();
      expect(await response.json()).toEqual({
        jsonrpc: "2.0",
        id: null,
        error: { code: -32002, message: "Service unavailable: the identity provider's signing keys could not be fetched" },
      });
      expect(misled.logger.last()).toMatchObject({ status: 503, decision: "denied" });
      expect(misled.logger.last().reason).toBe(
        `JWKS unavailable: Failed to fetch ${idp.discoveryUrl}: OIDC discovery document names issuer "https://evil.example.com/realms/acme", not ${idp.issuer}`,
      );
      // Nothing is remembered from a refused document: warm-up and each request read it again (1 + attempt)...
      expect(idp.requests(paths.discovery)).toBe(1 + attempt);
    }
    // ...and the JWKS it names is never fetched.
    expect(idp.requests(paths.jwks)).toBe(0);
    expect(upstream.requests.slice(relayed)).toEqual([]);
  });
});

describe("five issuers in one gateway (JWT_ISSUERS), each with its token shape", () => {
  it("discovered the keys of each issuer without a jwksUri, and used Cognito's configured one as is", () => {
    for (const shape of SHAPES) {
      const paths = providerPaths(provider(shape.name));
      const discovered = shape.name === "cognito" ? 0 : 1;
      expect([shape.name, provider(shape.name).requests(paths.discovery), provider(shape.name).requests(paths.jwks)]).toEqual([shape.name, discovered, 1]);
    }
  });

  it.each(SHAPES)("$name: its roles claim decides tools/list, and calls follow it", async (shape) => {
    const token = await provider(shape.name).token(shape.claims, shape.options);
    const mcp = await client(gateway.url, token);
    expect((await mcp.listTools()).tools.map((t) => t.name)).toEqual(shape.tools);
    const subject = shape.options?.subject;
    const listed = await logged((l) => l.mcpMethod === "tools/list" && l.subject === subject);
    const removed = 4 - shape.tools.length;
    expect(listed).toMatchObject({ status: 200, subject, decision: removed ? "filtered" : "allowed" });
    expect(listed.listItemsRemoved).toBe(removed || undefined);

    backend.executed.length = 0;
    expect((await mcp.callTool({ name: "echo", arguments: { message: shape.name } })).content).toEqual([{ type: "text", text: shape.name }]);
    expect(await logged((l) => l.tool === "echo" && l.subject === subject)).toMatchObject({ status: 200, decision: "allowed" });
    if (!shape.tools.includes("delete_everything")) {
      await expect(mcp.callTool({ name: "delete_everything", arguments: {} })).rejects.toThrow("Unknown tool: delete_everything");
      expect(await logged((l) => l.tool === "delete_everything" && l.subject === subject)).toMatchObject({ status: 200, decision: "denied" });
    }
    expect(backend.executed).toEqual([{ kind: "tool", name: "echo", arguments: { message: shape.name } }]);
  });

  it("Entra: accepts the Application ID URI as aud as well as the client GUID, and no other audience; needs scp", async () => {
    const entra = provider("entra");
    const claims = { roles: ["reader"], scp: "User.Read mcp.tools" };
    const response = await postRaw(gateway.url, INITIALIZE, bearer(await entra.token(claims, { audience: "api://mcp-gateway" })));
    expect(response.status).toBe(200);
    await response.text(); // logged when the stream ends: before the refusal's line
    await expectRefused(await entra.token(claims, { audience: "api://other" }), /^wrong audience: .*api:\/\/other/);
    // Entra's preset reads scopes from scp: the same scope in `scope` does not count (403, step-up challenge).
    const unscoped = await postRaw(gateway.url, INITIALIZE, bearer(await entra.token({ roles: ["reader"], azp: "client-app", scope: "mcp.tools" }, { audience: ENTRA_CLIENT })));
    expect(unscoped.status).toBe(403);
    expect(unscoped.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_scope", scope="mcp.tools", /);
    expect(gateway.logger.last()).toMatchObject({ status: 403, reason: "token lacks required scope: mcp.tools" });
  });

  it("Cognito: refuses an access token for another app client (client_id), and one with none", async () => {
    const cognito = provider("cognito");
    const claims = { token_use: "access", "cognito:groups": ["admin"] };
    await expectRefused(
      await cognito.token({ ...claims, client_id: "other-client" }, { audience: null }),
      new RegExp(`^wrong audience: client "other-client" is not one of ${COGNITO_CLIENT}$`),
    );
    await expectRefused(await cognito.token(claims, { audience: null }), new RegExp(`^wrong audience: client undefined is not one of ${COGNITO_CLIENT}$`));
  });

  it("Cognito: refuses ID tokens, which describe the user to the app and are no bearer tokens for a resource", async () => {
    const cognito = provider("cognito");
    await expectRefused(
      await cognito.token({ token_use: "id", "cognito:groups": ["admin"] }, { audience: COGNITO_CLIENT }),
      /^not an access token: token_use is "id", expected "access"$/,
    );
  });

  it("refuses a token naming one issuer but signed with another issuer's key", async () => {
    const okta = provider("okta");
    const entraKey = provider("entra").key;
    const claims = { scp: ["mcp.tools"], groups: ["admin"] };
    // Entra's kid is not in Okta's JWKS (one refetch of Okta's keys finds it still missing).
    await expectRefused(await okta.token(claims, { audience: "api://default", key: entraKey }), /^unknown signing key: /);
    // Entra's key presented under Okta's kid: the signature does not verify with Okta's key.
    await expectRefused(await okta.token(claims, { audience: "api://default", key: { ...entraKey, kid: okta.key.kid } }), /^invalid signature: /);
    // And a well-signed token from an issuer the gateway does not list.
    await expectRefused(await okta.token(claims, { audience: "api://default", issuer: "https://stranger.example.com", key: await generateSigningKey() }), /issuer not configured: https:\/\/stranger\.example\.com$/);
  });

  // A local IdP (Keycloak in a container, these stand-ins) is reached over plain http on loopback, as its keys are.
  it("publishes the plain-http issuers on loopback as authorization servers when AUTHORIZATION_SERVERS is unset", async () => {
    const response = await fetch(`${gateway.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ resource: gateway.url, authorization_servers: SHAPES.map((shape) => provider(shape.name).issuer), bearer_methods_supported: ["header"] });
  });
});
