/**
 * Only access tokens get in, through the real gateway over HTTP, for every preset: each IdP's genuine access tokens
 * (shaped as the IdP documents them) are accepted; its ID tokens, logout tokens, security event tokens and tokens
 * with a `crit` header are refused with 401 and a reason naming what gave them away, and nothing reaches the backend.
 * Every token is signed by the issuer's own key, published as a JWKS on loopback, and carries an audience the gateway
 * accepts (the client id is configured among the audiences): only the token-kind checks stand in the way. Where an
 * issuer is set to require `at+jwt` (RFC 9068), in JWT_ISSUERS or by JWT_REQUIRE_AT_JWT, every other type is refused.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { ACCOUNT_DISABLED, BACKCHANNEL_LOGOUT, SHAPES, type IssuerShapes, type TokenShape } from "../support/idp-token-shapes.js";

const BAD_TOKEN = "Unauthorized: the bearer token is not valid";

let backend: TestBackend;
let upstream: CountingProxy;
let policyFile: string;
const providers = new Map<string, TestIdentityProvider>();
const gateways: TestGateway[] = [];

/** One identity provider per issuer; Entra's v1 and v2 issuers share their keys, as they do at Microsoft. */
const provider = (shapes: IssuerShapes) => providers.get(shapes.preset === "entra" ? "entra" : shapes.name) as TestIdentityProvider;

/** Signs `shape` as `shapes`' issuer, with header and claims changed as given. */
function sign(shapes: IssuerShapes, shape: TokenShape, change: { header?: Record<string, unknown>; claims?: Record<string, unknown>; expiresIn?: null } = {}) {
  return provider(shapes).token({
    issuer: shapes.issuer,
    audience: shape.audience,
    claims: { ...shape.claims, ...change.claims },
    header: { ...shape.header, ...change.header },
    ...(change.expiresIn === null ? { expiresIn: null } : {}),
  });
}

/** JWT_ISSUERS for every issuer of SHAPES, each with its preset and its IdP's JWKS, plus `extra`. */
function issuersSetting(extra: Record<string, unknown> = {}): string {
  return JSON.stringify(SHAPES.map((s) => ({ issuer: s.issuer, audience: s.audience, preset: s.preset, jwksUri: provider(s).jwksUri, ...extra })));
}

let gateway: TestGateway;

beforeAll(async () => {
  backend = await startBackend({ jsonResponse: true });
  upstream = await startCountingProxy(backend.url);
  policyFile = join(await mkdtemp(join(tmpdir(), "token-kinds-")), "policy.yaml");
  await writeFile(policyFile, "tools:\n  echo: ['*']\n");
  for (const shapes of SHAPES) {
    const key = shapes.preset === "entra" ? "entra" : shapes.name;
    if (!providers.has(key)) providers.set(key, await startIdentityProvider());
  }
  gateway = await startGateway({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: policyFile, JWT_ISSUERS: issuersSetting() });
  gateways.push(gateway);
});

afterAll(async () => {
  for (const g of gateways) await g.close();
  await upstream?.close();
  await backend?.close();
  for (const p of providers.values()) await p.close();
});

async function expectAccepted(token: string, target: TestGateway = gateway): Promise<void> {
  const before = upstream.requests.length;
  const response = await postRaw(target.url, INITIALIZE, { authorization: `Bearer ${token}` });
  expect(response.status).toBe(200);
  await response.text();
  expect(upstream.requests.slice(before)).toEqual(["POST /mcp"]);
  expect(target.logger.last()).toMatchObject({ status: 200, mcpMethod: "initialize", decision: "allowed", subject: "jsmith" });
}

/** A 401 with the invalid_token challenge, the reason in the access log, and nothing relayed or executed. */
async function expectRefused(token: string, reason: string, target: TestGateway = gateway): Promise<void> {
  const relayed = upstream.requests.length;
  const executed = backend.executed.length;
  const response = await postRaw(target.url, INITIALIZE, { authorization: `Bearer ${token}` });
  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toBe(
    `Bearer resource_metadata="${target.origin}/.well-known/oauth-protected-resource/mcp", error="invalid_token"`,
  );
  expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32001, message: BAD_TOKEN } });
  expect(target.logger.last()).toMatchObject({ status: 401, path: "/mcp", decision: "denied", reason });
  expect(target.logger.last()).not.toHaveProperty("subject");
  expect(upstream.requests.slice(relayed)).toEqual([]);
  expect(backend.executed.length).toBe(executed);
}

const genuine = SHAPES.flatMap((shapes) => shapes.accessTokens.map((shape) => ({ issuer: shapes.name, shapes, shape })));
const idTokens = SHAPES.flatMap((shapes) => shapes.idTokens.map((shape) => ({ issuer: shapes.name, shapes, shape })));

describe("genuine access tokens are still accepted", () => {
  it.each(genuine)("$issuer: $shape.label", async ({ shapes, shape }) => {
    await expectAccepted(await sign(shapes, shape));
  });
});

describe("ID tokens are refused, as each IdP shapes them", () => {
  it.each(idTokens)("$issuer: $shape.label", async ({ shapes, shape }) => {
    await expectRefused(await sign(shapes, shape), shape.reason);
  });
});

describe.each(SHAPES)("$name: other tokens its keys sign are refused", (shapes) => {
  const [access] = shapes.accessTokens;
  const logout = { events: { [BACKCHANNEL_LOGOUT]: {} }, ...shapes.logoutClaims };

  it("a logout token (typ logout+jwt)", async () => {
    const token = await sign(shapes, access, { header: { typ: "logout+jwt" }, claims: logout });
    await expectRefused(token, 'not an access token: header typ is "logout+jwt" (a logout token)');
  });

  it("a logout token typed application/Logout+JWT (compared as a media type)", async () => {
    const token = await sign(shapes, access, { header: { typ: "application/Logout+JWT" }, claims: logout });
    await expectRefused(token, 'not an access token: header typ is "application/Logout+JWT" (a logout token)');
  });

  it("a logout token without typ, by its events claim", async () => {
    const token = await sign(shapes, access, { header: { typ: undefined }, claims: logout });
    await expectRefused(token, "not an access token: claim events is present (only security event and logout tokens carry it)");
  });

  it("a security event token (typ secevent+jwt, no exp)", async () => {
    const events = { [ACCOUNT_DISABLED]: { subject: { format: "iss_sub", iss: shapes.issuer, sub: "jsmith" } } };
    const token = await sign(shapes, access, { header: { typ: "secevent+jwt" }, claims: { events }, expiresIn: null });
    await expectRefused(token, 'not an access token: header typ is "secevent+jwt" (a security event token)');
  });

  it("a security event token without typ, by its events claim", async () => {
    const token = await sign(shapes, access, { header: { typ: undefined }, claims: { events: { [ACCOUNT_DISABLED]: {} } }, expiresIn: null });
    await expectRefused(token, "not an access token: claim events is present (only security event and logout tokens carry it)");
  });

  it("a genuine access token with a crit header", async () => {
    const token = await sign(shapes, access, { header: { crit: ["urn:example:must-understand"], "urn:example:must-understand": true } });
    await expectRefused(token, 'token header has crit ["urn:example:must-understand"]: the gateway understands no JWS extension (RFC 7515 §4.1.11)');
  });
});

describe("requireAtJwt: an issuer whose access tokens are all typed at+jwt", () => {
  let strict: TestGateway;
  beforeAll(async () => {
    strict = await startGateway({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: policyFile, JWT_ISSUERS: issuersSetting({ requireAtJwt: true }) });
    gateways.push(strict);
  });

  const typed = (shape: TokenShape) => shape.header.typ;

  it.each(genuine.filter(({ shape }) => typed(shape) !== "at+jwt"))("$issuer: refuses $shape.label as the IdP types it", async ({ shapes, shape }) => {
    const typ = typed(shape);
    const reason = typeof typ === "string" ? `header typ is ${JSON.stringify(typ)}` : "header typ is missing";
    await expectRefused(await sign(shapes, shape), `not an access token: ${reason}, expected "at+jwt"`, strict);
  });

  it.each(genuine)("$issuer: accepts $shape.label typed at+jwt", async ({ shapes, shape }) => {
    await expectAccepted(await sign(shapes, shape, { header: { typ: "at+jwt" } }), strict);
  });

  it.each(SHAPES)("$name: accepts application/AT+JWT (compared as a media type)", async (shapes) => {
    await expectAccepted(await sign(shapes, shapes.accessTokens[0], { header: { typ: "application/AT+JWT" } }), strict);
  });

  it.each(idTokens)("$issuer: still refuses $shape.label typed at+jwt by its claims", async ({ shapes, shape }) => {
    await expectRefused(await sign(shapes, shape, { header: { typ: "at+jwt" } }), shape.reason, strict);
  });

  it("is set for a single issuer by JWT_REQUIRE_AT_JWT", async () => {
    const keycloak = SHAPES.find((s) => s.preset === "keycloak") as IssuerShapes;
    const single = await startGateway({
      MCP_BACKEND_URL: upstream.url,
      POLICY_FILE: policyFile,
      JWT_ISSUER: keycloak.issuer,
      JWT_AUDIENCE: keycloak.audience.join(","),
      JWKS_URI: provider(keycloak).jwksUri,
      JWT_PRESET: "keycloak",
      JWT_REQUIRE_AT_JWT: "true",
    });
    gateways.push(single);
    const [access] = keycloak.accessTokens;
    await expectRefused(await sign(keycloak, access), 'not an access token: header typ is "JWT", expected "at+jwt"', single);
    await expectAccepted(await sign(keycloak, access, { header: { typ: "at+jwt" } }), single);
  });
});
