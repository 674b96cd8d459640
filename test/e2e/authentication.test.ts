/**
 * JWT authentication through the real gateway over HTTP: a real JWKS on loopback, tokens signed here, and every way a
 * caller can be refused. Each refusal must be a 401 with the RFC 6750 / RFC 9728 challenge, a JSON-RPC error body
 * without internals, an access-log line naming the precise cause, and no request reaching the backend at all.
 */
import { request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigFromEnv } from "../../functions/config/gateway-config.js";
import { generateSigningKey, JWKS_PATH, publicJwk, serveJwks } from "../../functions/demo/identity-provider.js";
import { ConfigError } from "../../functions/errors.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, MCP_HEADERS, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import {
  AUDIENCE,
  ISSUER,
  hmacWithPublicKey,
  nowSeconds,
  startIdentityProvider,
  tamperedToken,
  unsignedToken,
  type TestIdentityProvider,
} from "../support/identity-provider.js";

const POLICY = fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url));
const BAD_TOKEN = "Unauthorized: the bearer token is not valid";
const NO_TOKEN = "Unauthorized: a bearer token is required";

let idp: TestIdentityProvider;
let backend: TestBackend;
let upstream: CountingProxy;
let gateway: TestGateway;
const extraGateways: TestGateway[] = [];

function gatewayEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { MCP_BACKEND_URL: upstream.url, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWKS_URI: idp.jwksUri, POLICY_FILE: POLICY, ...overrides };
}

async function extraGateway(overrides: Record<string, string>): Promise<TestGateway> {
  const started = await startGateway(gatewayEnv(overrides));
  extraGateways.push(started);
  return started;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** POSTs initialize with the given headers on separate header lines (node:http sends an array as repeated lines). */
function postWithHeaderLines(url: string, headers: Record<string, string | string[]>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { ...MCP_HEADERS, ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(INITIALIZE));
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startBackend();
  upstream = await startCountingProxy(backend.url);
  gateway = await startGateway(gatewayEnv());
});

afterAll(async () => {
  await Promise.all(extraGateways.map((g) => g.close()));
  await gateway?.close();
  await upstream?.close();
  await backend?.close();
  await idp?.close();
});

interface Refusal {
  name: string;
  /** The bearer token to send; or else `send` makes the whole request. */
  token?: () => string | Promise<string>;
  send?: () => Promise<Response>;
  /** True when no token at all was presented (the challenge then carries no error code). */
  noToken?: boolean;
  reason: RegExp;
}

const NOT_SINGLE_BEARER = /^Authorization header is not a single 'Bearer <token>'$/;
const validClaims = () => ({ iss: ISSUER, aud: AUDIENCE, sub: "jsmith", roles: ["admin"], exp: nowSeconds() + 600 });

const REFUSALS: Refusal[] = [
  { name: "no Authorization header", send: () => postRaw(gateway.url, INITIALIZE), noToken: true, reason: /^no bearer token found$/ },
  {
    name: "Basic credentials instead of a bearer token",
    send: () => postRaw(gateway.url, INITIALIZE, { authorization: `Basic ${Buffer.from("jsmith:secret").toString("base64")}` }),
    reason: NOT_SINGLE_BEARER,
  },
  { name: "a token that is not a JWT (abc)", token: () => "abc", reason: /^malformed token: .*3 parts/ },
  { name: "a JWT of garbage parts (a.b.c)", token: () => "a.b.c", reason: /^malformed token: .*Header is not a valid JSON/ },
  {
    name: "a signature by another key under the published kid",
    token: async () => idp.token({}, { ...(await generateSigningKey()), kid: idp.key.kid }),
    reason: /^invalid signature: /,
  },
  { name: "an expired token", token: () => idp.token({ expiresIn: -60 }), reason: /^token expired: / },
  { name: "a token not yet valid (nbf in the future)", token: () => idp.token({ claims: { nbf: nowSeconds() + 3600 } }), reason: /^token not yet valid: / },
  { name: "a token from the wrong issuer", token: () => idp.token({ issuer: "https://evil.example.com" }), reason: /^wrong issuer: .*https:\/\/evil\.example\.com/ },
  { name: "a token for another audience", token: () => idp.token({ audience: "other-api.example.com" }), reason: /^wrong audience: .*other-api\.example\.com/ },
  { name: "a token signed by a key missing from the JWKS", token: async () => idp.token({}, await generateSigningKey()), reason: /^unknown signing key: / },
  {
    name: "HS256 with the RSA public key as the HMAC secret",
    token: () => hmacWithPublicKey(idp.key, validClaims()),
    reason: /^signature algorithm not allowed: .*HS256/,
  },
  // An unsigned token ends in "." (empty signature): the parser refuses it before the algorithm is even looked at.
  { name: "alg none without a signature", token: () => unsignedToken(idp.key, validClaims()), reason: /^malformed token: .*3 parts/ },
  { name: "alg none with a made-up signature", token: () => `${unsignedToken(idp.key, validClaims())}c2ln`, reason: /^signature algorithm not allowed: .*none/ },
  {
    name: "a signed token whose payload was swapped for one with the admin role",
    token: async () => tamperedToken(await idp.token(), validClaims()),
    reason: /^invalid signature: /,
  },
  {
    name: "a valid token in the query string (?access_token=)",
    send: async () => postRaw(`${gateway.url}?access_token=${await idp.token()}`, INITIALIZE),
    reason: /^bearer token sent in the query string/,
  },
  {
    name: "two Authorization headers, each with a valid token",
    send: async () => {
      const headers = new Headers(MCP_HEADERS);
      headers.append("authorization", `Bearer ${await idp.token()}`);
      headers.append("authorization", `Bearer ${await idp.token({ subject: "pointy-haired-boss" })}`);
      return fetch(gateway.url, { method: "POST", headers, body: JSON.stringify(INITIALIZE) });
    },
    reason: NOT_SINGLE_BEARER,
  },
];

describe("authentication refusals", () => {
  for (const { name, token, send, noToken, reason } of REFUSALS) {
    it(`refuses ${name}: 401, challenge, JSON-RPC error, precise log reason, nothing sent on`, async () => {
      const tokenPresented = !noToken;
      const request = send ?? (async () => postRaw(gateway.url, INITIALIZE, bearer(await (token as NonNullable<typeof token>)())));
      const relayedBefore = upstream.requests.length;
      const loggedBefore = gateway.logger.requests().length;
      const response = await request();

      expect(response.status).toBe(401);
      const challenge = `Bearer resource_metadata="${gateway.origin}/.well-known/oauth-protected-resource/mcp"`;
      expect(response.headers.get("www-authenticate")).toBe(tokenPresented ? `${challenge}, error="invalid_token"` : challenge);
      expect(response.headers.get("content-type")).toBe("application/json");
      // Exactly this object: the public message only, no stack trace or verifier detail.
      expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32001, message: tokenPresented ? BAD_TOKEN : NO_TOKEN } });

      expect(gateway.logger.requests()).toHaveLength(loggedBefore + 1);
      const line = gateway.logger.last();
      expect(line).toMatchObject({ status: 401, httpMethod: "POST", path: "/mcp", decision: "denied" });
      expect(line.reason).toMatch(reason);
      expect(line).not.toHaveProperty("subject");

      expect(upstream.requests.slice(relayedBefore)).toEqual([]);
      expect(backend.executed).toEqual([]);
    });
  }

  it("refuses two Authorization header lines on the wire, even when the first one is valid", async () => {
    const relayedBefore = upstream.requests.length;
    const response = await postWithHeaderLines(gateway.url, { authorization: [`Bearer ${await idp.token()}`, "Bearer abc"] });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32001, message: BAD_TOKEN } });
    expect(gateway.logger.last().reason).toMatch(NOT_SINGLE_BEARER);
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);
  });
});

describe("accepted tokens", () => {
  it("lets a valid token through to the backend, and logs its subject", async () => {
    const relayedBefore = upstream.requests.length;
    const response = await postRaw(gateway.url, INITIALIZE, bearer(await idp.token({ subject: "jsmith" })));
    expect(response.status).toBe(200);
    expect(response.headers.get("mcp-session-id")).toBeTruthy();
    expect(upstream.requests.slice(relayedBefore)).toEqual(["POST /mcp"]);
    const line = gateway.logger.last();
    expect(line).toMatchObject({ status: 200, subject: "jsmith", mcpMethod: "initialize", decision: "allowed" });
    expect(line).not.toHaveProperty("reason");
  });

  it("accepts a token for any one of several configured audiences, and no other", async () => {
    const multi = await extraGateway({ JWT_AUDIENCE: "a, mcp.example.com" });
    for (const audience of ["a", AUDIENCE, ["unrelated", "a"]]) {
      const response = await postRaw(multi.url, INITIALIZE, bearer(await idp.token({ audience })));
      expect(response.status, `aud ${JSON.stringify(audience)}`).toBe(200);
    }
    const refused = await postRaw(multi.url, INITIALIZE, bearer(await idp.token({ audience: "b" })));
    expect(refused.status).toBe(401);
    expect(multi.logger.last().reason).toMatch(/^wrong audience: .*\bb\b/);
  });
});

describe("protected resource metadata (RFC 9728)", () => {
  it("is served at both well-known paths, without a token, naming the MCP endpoint and header-only bearer tokens", async () => {
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
      const response = await fetch(`${gateway.origin}${path}`);
      expect(response.status, path).toBe(200);
      // The issuer is not an https URL and AUTHORIZATION_SERVERS is unset: no authorization server is claimed.
      expect(await response.json()).toEqual({ resource: `${gateway.origin}/mcp`, bearer_methods_supported: ["header"] });
    }
  });

  it("is where the 401 challenge points", async () => {
    const challenge = (await postRaw(gateway.url, INITIALIZE)).headers.get("www-authenticate") ?? "";
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBeDefined();
    const response = await fetch(metadataUrl as string);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ resource: gateway.url });
  });

  it("lists AUTHORIZATION_SERVERS when they are configured", async () => {
    const withServers = await extraGateway({ AUTHORIZATION_SERVERS: "https://login.example.com, https://backup.example.com/realms/acme" });
    const response = await fetch(`${withServers.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(await response.json()).toEqual({
      resource: `${withServers.origin}/mcp`,
      authorization_servers: ["https://login.example.com", "https://backup.example.com/realms/acme"],
      bearer_methods_supported: ["header"],
    });
  });
});

describe("signing keys unavailable", () => {
  it("answers 503, not 401, while the JWKS endpoint is down, and accepts tokens once it is back", async () => {
    const port = await closedPort();
    const down = await extraGateway({ JWKS_URI: `http://127.0.0.1:${port}${JWKS_PATH}` });
    const key = await generateSigningKey();
    const token = await idp.token({}, key);
    const relayedBefore = upstream.requests.length;

    const response = await postRaw(down.url, INITIALIZE, bearer(token));
    expect(response.status).toBe(503);
    expect(response.headers.get("www-authenticate")).toBeNull();
    expect(response.headers.get("retry-after")).toBe("5");
    expect(await response.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32002, message: "Service unavailable: the identity provider's signing keys could not be fetched" },
    });
    expect(down.logger.last()).toMatchObject({ status: 503, decision: "denied" });
    expect(down.logger.last().reason).toMatch(/^JWKS unavailable: .*127\.0\.0\.1/);
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);

    // Asking again is still "keys unavailable", never a 401 that would tell the client its token is bad.
    expect((await postRaw(down.url, INITIALIZE, bearer(token))).status).toBe(503);
    // A token that cannot be a JWT is still judged (and refused) without the keys.
    expect((await postRaw(down.url, INITIALIZE, bearer("abc"))).status).toBe(401);

    const jwks = await serveJwks(() => [publicJwk(key)], port);
    try {
      expect((await postRaw(down.url, INITIALIZE, bearer(token))).status).toBe(200);
    } finally {
      await jwks.close();
    }
  });
});

describe("configuration", () => {
  it("refuses a plain-http JWKS_URI that is not on loopback, naming JWKS_URI", () => {
    const env = gatewayEnv({ JWKS_URI: "http://idp.example.com/.well-known/jwks.json" });
    const error = (() => {
      try {
        loadConfigFromEnv(env);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "JWKS_URI must use https (plain http is accepted on loopback addresses only): http://idp.example.com/.well-known/jwks.json",
    ]);
    // The same host over https, and plain http on loopback, are accepted.
    expect(loadConfigFromEnv(gatewayEnv({ JWKS_URI: "https://idp.example.com/.well-known/jwks.json" })).issuers[0]?.jwksUri?.href).toBe("https://idp.example.com/.well-known/jwks.json");
    expect(loadConfigFromEnv(gatewayEnv()).issuers[0]?.jwksUri?.href).toBe(idp.jwksUri);
  });
});
