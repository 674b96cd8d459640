/**
 * Tokens built to trick the verifier, through the real gateway over HTTP, with a real JWKS on loopback: header
 * parameters that name keys (`kid`, `jku`, `x5u`, `jwk`, `x5c`), oversized tokens and headers, duplicate JSON keys,
 * and claims of the wrong type. Tokens are assembled byte by byte here (node:crypto signs exactly the header and
 * payload text given), since JWT libraries refuse to produce most of these shapes.
 *
 * What aws-jwt-verify 5 (the gateway's verifier) does with them, and so what is asserted:
 * - the key is chosen by `kid` alone, in the configured JWKS only; `jku`, `x5u`, `jwk` and `x5c` are never read;
 * - a `kid` that is not a string is a malformed token, a missing one has "no usable kid", any other string is looked
 *   up as it is (a path, SQL or 10 KB of text is just an unknown kid);
 * - header and payload are parsed with JSON.parse (last duplicate key wins, `__proto__` and `constructor` keys are
 *   removed) once, and that one parse is what is verified and what the caller's identity is read from;
 * - `exp`, `nbf`, `iat` must be numbers, `iss`, `sub`, `jti` and `scope` strings, `aud` a string or list of strings,
 *   or the token is malformed; `exp` must be there (aws-jwt-verify checks it only when present; the gateway insists),
 *   and so must a non-empty `sub` (RFC 9068), unless the issuer is set to JWT_REQUIRE_SUB=false;
 * - `crit` is refused whatever it names (the gateway understands no JWS extension), and `typ` is compared as a media
 *   type: logout tokens and SETs are refused (test/e2e/token-kinds.test.ts has every token kind and preset).
 */
import { createPrivateKey, sign, type JsonWebKey } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveFetch, type LocalServer } from "../../functions/adapters/node-server.js";
import { generateSigningKey, publicJwk, type SigningJwk } from "../../functions/demo/identity-provider.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, MCP_HEADERS, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { AUDIENCE, ISSUER, nowSeconds, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

/**
 * echo is granted natively (the roles read from ROLES_CLAIM), add by a CEL rule (the raw `jwt.roles` claim), so one
 * token shows what each policy form makes of its claims; the deny rule reads `jwt.sub`.
 */
const POLICY = `
tools:
  echo: [admin]
rules:
- 'mcp.tool.name == "add" && "admin" in jwt.roles'
- deny: 'jwt.sub == "mallory"'
`;
const BAD_TOKEN = "Unauthorized: the bearer token is not valid";
const PROTOCOL_VERSION = "2025-06-18";

let idp: TestIdentityProvider;
let attacker: SigningJwk;
let backend: TestBackend;
let upstream: CountingProxy;
let gateway: TestGateway;
let policyFile: string;
const extraGateways: TestGateway[] = [];

/** An attacker's server on loopback: serves a JWKS holding the attacker's key, and counts every request it gets. */
let attackerServer: LocalServer;
let attackerRequests = 0;

function b64url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/** A compact JWS over exactly this header and payload text (duplicate keys and all), RS256 with `key`. */
function signedRaw(header: string, payload: string, key: SigningJwk): string {
  const input = `${b64url(header)}.${b64url(payload)}`;
  const privateKey = createPrivateKey({ key: key as JsonWebKey, format: "jwk" });
  return `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
}

/** A valid payload's claims (admin role), as JSON text without its closing brace, so raw members can follow. */
function claimsOpen(omit: string[] = []): string {
  const claims: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, sub: "jsmith", iat: nowSeconds(), exp: nowSeconds() + 600 };
  for (const name of omit) delete claims[name];
  return JSON.stringify(claims).slice(0, -1);
}

/** A payload: the valid claims (less `omit`), then `members`, raw JSON text (duplicates of the claims above win). */
function payload(members = '"roles":["admin"]', omit: string[] = []): string {
  const open = claimsOpen(omit);
  if (members === "") return `${open}}`;
  return `${open}${open === "{" ? "" : ","}${members}}`;
}

/** The header of the identity provider's key, with raw members after `alg` and `kid` (duplicates of them win). */
function header(members = ""): string {
  return `{"alg":"RS256","kid":${JSON.stringify(idp.key.kid)}${members === "" ? "" : `,${members}`}}`;
}

/** A token the identity provider really signed, over these exact texts. */
const issued = (payloadText = payload(), headerText = header()) => signedRaw(headerText, payloadText, idp.key);

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function gatewayEnv(extra: Record<string, string> = {}): Record<string, string> {
  return gatewaySettings(idp, upstream.url, { POLICY_FILE: policyFile, ...extra });
}

beforeAll(async () => {
  idp = await startIdentityProvider();
  attacker = await generateSigningKey();
  backend = await startBackend({ jsonResponse: true });
  upstream = await startCountingProxy(backend.url);
  policyFile = join(await mkdtemp(join(tmpdir(), "token-tricks-")), "policy.yaml");
  await writeFile(policyFile, POLICY);
  gateway = await startGateway(gatewayEnv());
  attackerServer = await serveFetch(
    async () => {
      attackerRequests++;
      // The attacker's key, under its own kid and under the kid of the real key.
      return Response.json({ keys: [publicJwk(attacker), { ...publicJwk(attacker), kid: idp.key.kid }] });
    },
    { port: 0 },
  );
});

afterAll(async () => {
  await Promise.all(extraGateways.map((g) => g.close()));
  await gateway?.close();
  await attackerServer?.close();
  await upstream?.close();
  await backend?.close();
  await idp?.close();
});

/** Asserts a 401 with the challenge, the exact JSON-RPC error, one log line with the reason, and nothing forwarded. */
async function expectRefused(token: string, reason: RegExp, target: TestGateway = gateway): Promise<Record<string, unknown>> {
  const relayedBefore = upstream.requests.length;
  const loggedBefore = target.logger.requests().length;
  const executedBefore = backend.executed.length;
  const response = await postRaw(target.url, INITIALIZE, bearer(token));

  expect(response.status).toBe(401);
  expect(response.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${target.origin}/.well-known/oauth-protected-resource/mcp", error="invalid_token"`);
  expect(response.headers.get("content-type")).toBe("application/json");
  // Exactly this object: the public message only, no stack trace or verifier detail.
  expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32001, message: BAD_TOKEN } });

  const lines = target.logger.requests().slice(loggedBefore);
  expect(lines).toHaveLength(1);
  const line = lines[0] as Record<string, unknown>;
  expect(line).toMatchObject({ status: 401, httpMethod: "POST", path: "/mcp", decision: "denied" });
  expect(line.reason).toMatch(reason);
  expect(line).not.toHaveProperty("subject");

  expect(upstream.requests.slice(relayedBefore)).toEqual([]);
  expect(backend.executed.slice(executedBefore)).toEqual([]);
  return line;
}

interface Reach {
  status: number;
  /** Tools the caller was shown. */
  listed: string[];
  /** Of echo and add, the tools the backend ran for the caller. */
  ran: string[];
  /** The subject the access log names. */
  subject: unknown;
}

/**
 * Opens a session with `token`, lists the tools and calls echo and add in it: what the backend ran decides. A token
 * the gateway refuses gets no further than the initialize request.
 */
async function reach(token: string, target: TestGateway = gateway): Promise<Reach> {
  const executedBefore = backend.executed.length;
  const opened = await postRaw(target.url, INITIALIZE, bearer(token));
  if (opened.status !== 200) return { status: opened.status, listed: [], ran: [], subject: target.logger.last().subject };
  await opened.body?.cancel();
  const subject = target.logger.last().subject;
  const headers = { ...bearer(token), "mcp-session-id": opened.headers.get("mcp-session-id") ?? "", "mcp-protocol-version": PROTOCOL_VERSION };
  expect((await postRaw(target.url, { jsonrpc: "2.0", method: "notifications/initialized" }, headers)).status).toBe(202);

  const list = await postRaw(target.url, { jsonrpc: "2.0", id: 1, method: "tools/list" }, headers);
  expect(list.status).toBe(200);
  const listed = ((await list.json()) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
  const calls = [
    { name: "echo", arguments: { message: "hi" } },
    { name: "add", arguments: { a: 1, b: 2 } },
  ];
  for (const [index, params] of calls.entries()) {
    const call = await postRaw(target.url, { jsonrpc: "2.0", id: 2 + index, method: "tools/call", params }, headers);
    expect(call.status).toBe(200);
    const body = (await call.json()) as { error?: { code: number; message: string } };
    // A refused call looks like a missing tool.
    if (body.error) expect(body.error).toEqual({ code: -32602, message: `Unknown tool: ${params.name}` });
  }
  return { status: 200, listed, ran: backend.executed.slice(executedBefore).map((e) => e.name), subject };
}

describe("kid tricks", () => {
  const kidCases: Array<[string, () => string, RegExp]> = [
    ["no kid in the header", () => signedRaw('{"alg":"RS256"}', payload(), idp.key), /^token header has no usable kid: /],
    ["a kid that is null", () => signedRaw('{"alg":"RS256","kid":null}', payload(), idp.key), /^malformed token: JWT header kid claim is not a string$/],
    ["a kid that is a number", () => signedRaw('{"alg":"RS256","kid":1}', payload(), idp.key), /^malformed token: JWT header kid claim is not a string$/],
    [
      "a kid that is an object holding the real kid",
      () => signedRaw(`{"alg":"RS256","kid":{"kid":${JSON.stringify(idp.key.kid)}}}`, payload(), idp.key),
      /^malformed token: JWT header kid claim is not a string$/,
    ],
    [
      "a kid that is an array holding the real kid",
      () => signedRaw(`{"alg":"RS256","kid":[${JSON.stringify(idp.key.kid)}]}`, payload(), idp.key),
      /^malformed token: JWT header kid claim is not a string$/,
    ],
    ["an empty kid", () => signedRaw('{"alg":"RS256","kid":""}', payload(), attacker), /^unknown signing key: /],
    ["a path-traversal kid", () => signedRaw('{"alg":"RS256","kid":"../../../../etc/passwd"}', payload(), attacker), /^unknown signing key: /],
    ["a kid pointing at /dev/null", () => signedRaw('{"alg":"RS256","kid":"/dev/null"}', payload(), attacker), /^unknown signing key: /],
    ["an SQL-injection kid", () => signedRaw(`{"alg":"RS256","kid":"x' UNION SELECT 'secret' --"}`, payload(), attacker), /^unknown signing key: /],
    ["a kid of prototype names", () => signedRaw('{"alg":"RS256","kid":"__proto__"}', payload(), attacker), /^unknown signing key: /],
    ["a 10 KB kid", () => signedRaw(`{"alg":"RS256","kid":"${"k".repeat(10_240)}"}`, payload(), attacker), /^unknown signing key: /],
  ];

  it.each(kidCases)("refuses %s: 401, nothing forwarded", async (_, token, reason) => {
    await expectRefused(token(), reason);
  });

  it("looks a kid up in the configured JWKS only: an attacker's jku is never fetched", async () => {
    const jku = `${attackerServer.url}/jwks.json`;
    // Signed by the attacker, under the attacker's own kid, with the JWKS that holds it named in jku.
    await expectRefused(signedRaw(JSON.stringify({ alg: "RS256", kid: attacker.kid, jku }), payload(), attacker), /^unknown signing key: /);
    // The same, under the real key's kid (the attacker's JWKS publishes the attacker's key under that kid too).
    await expectRefused(signedRaw(JSON.stringify({ alg: "RS256", kid: idp.key.kid, jku }), payload(), attacker), /^invalid signature: /);
    expect(attackerRequests).toBe(0);
  });

  it("never fetches x5u either", async () => {
    const x5u = `${attackerServer.url}/cert.pem`;
    await expectRefused(signedRaw(JSON.stringify({ alg: "RS256", kid: idp.key.kid, x5u }), payload(), attacker), /^invalid signature: /);
    await expectRefused(signedRaw(JSON.stringify({ alg: "RS256", kid: attacker.kid, x5u }), payload(), attacker), /^unknown signing key: /);
    expect(attackerRequests).toBe(0);
  });

  it("ignores a key embedded in the header (jwk, x5c): the signature is checked against the JWKS key", async () => {
    const jwk = publicJwk(attacker);
    await expectRefused(signedRaw(JSON.stringify({ alg: "RS256", kid: idp.key.kid, jwk }), payload(), attacker), /^invalid signature: /);
    await expectRefused(signedRaw(JSON.stringify({ alg: "RS256", kid: attacker.kid, jwk }), payload(), attacker), /^unknown signing key: /);
    // x5c: a certificate chain (here the attacker's modulus as a stand-in DER blob; it is never parsed).
    const x5c = [Buffer.from(String(jwk.n), "base64url").toString("base64")];
    await expectRefused(signedRaw(JSON.stringify({ alg: "RS256", kid: idp.key.kid, x5c }), payload(), attacker), /^invalid signature: /);
    expect(attackerRequests).toBe(0);
  });

  it("refuses an encrypted token (JWE compact serialization, five parts) as malformed", async () => {
    const jweHeader = JSON.stringify({ alg: "RSA-OAEP-256", enc: "A256GCM", kid: idp.key.kid });
    const jwe = [jweHeader, "encrypted key", "iv", payload(), "tag"].map(b64url).join(".");
    await expectRefused(jwe, /^malformed token: .*3 parts/);
  });
});

describe("header parameters: crit and typ", () => {
  // RFC 7515 §4.1.11: a recipient must refuse a JWS whose crit names an extension it does not understand. The gateway
  // understands none (aws-jwt-verify ignores crit), so any crit is refused, even in a token the issuer signed.
  it("refuses an issuer-signed token whose crit names an unknown extension", async () => {
    const token = issued(payload(), header('"crit":["urn:example:must-understand"],"urn:example:must-understand":true'));
    await expectRefused(token, /^token header has crit \["urn:example:must-understand"\]: the gateway understands no JWS extension/);
  });

  it("refuses an attacker's token that adds crit or b64:false to confuse the signing input: the signature still decides", async () => {
    const forged = signedRaw(header('"crit":["b64"],"b64":false'), payload(), attacker);
    await expectRefused(forged, /^invalid signature: /);
  });

  // typ is compared as a media type (RFC 7515 §4.1.9): the types of logout tokens and SETs are refused, any other is
  // accepted unless the issuer requires at+jwt (test/e2e/token-kinds.test.ts has the rest).
  it.each(["at+jwt", "JWT", "JWE"])("accepts an issuer-signed token typed %s", async (typ) => {
    const outcome = await reach(issued(payload(), header(`"typ":${JSON.stringify(typ)}`)));
    expect(outcome.status).toBe(200);
    expect(outcome.ran).toEqual(["echo", "add"]);
  });

  it.each(["logout+jwt", "Logout+JWT", "application/secevent+jwt"])("refuses an issuer-signed token typed %s", async (typ) => {
    await expectRefused(issued(payload(), header(`"typ":${JSON.stringify(typ)}`)), /^not an access token: header typ is /);
  });
});

describe("huge tokens", () => {
  it("refuses 12 KB of garbage at once, as malformed", async () => {
    const started = performance.now();
    const line = await expectRefused("x".repeat(12 * 1024), /^malformed token: .*3 parts/);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(line.durationMs as number).toBeLessThan(500);
  });

  it("refuses a 12 KB token of the right shape with a bad signature at once", async () => {
    const big = signedRaw(header(), payload(`"roles":["admin"],"pad":"${"p".repeat(8 * 1024)}"`), attacker);
    expect(big.length).toBeGreaterThan(11 * 1024);
    const started = performance.now();
    const line = await expectRefused(big, /^invalid signature: /);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(line.durationMs as number).toBeLessThan(500);
  });

  // The gateway sets no token size limit of its own: a genuine token is accepted up to the runtime's header limit.
  it("accepts an issuer-signed token with a 10 KB claim, under node's header limit", async () => {
    const big = issued(payload(`"roles":["admin"],"pad":"${"p".repeat(10 * 1024)}"`));
    expect(big.length).toBeGreaterThan(13 * 1024);
    expect(big.length).toBeLessThan(15 * 1024);
    expect(await reach(big)).toEqual({ status: 200, listed: ["echo", "add"], ran: ["echo", "add"], subject: "jsmith" });
  });

  // Node's HTTP server refuses a request whose headers exceed --max-http-header-size (16 KiB by default) with 431
  // and closes the connection before any request handler runs: the runtime's limit, not the gateway's. (On AWS,
  // API Gateway applies its own header quotas in front of the function.) So there is no access-log line for it.
  it("is answered 431 by the local server when the header is over node's 16 KiB limit, before the gateway runs", async () => {
    const token = issued(payload(`"roles":["admin"],"pad":"${"p".repeat(16 * 1024)}"`));
    expect(token.length).toBeGreaterThan(16 * 1024);
    const relayedBefore = upstream.requests.length;
    const loggedBefore = gateway.logger.lines.length;
    const jwksBefore = idp.jwksRequests();
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(gateway.url, { method: "POST", headers: { ...MCP_HEADERS, authorization: `Bearer ${token}` } }, (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
      });
      request.on("error", reject);
      request.end(JSON.stringify(INITIALIZE));
    });
    expect(status).toBe(431);
    expect(gateway.logger.lines.length).toBe(loggedBefore);
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);
    expect(idp.jwksRequests()).toBe(jwksBefore);
  });
});

describe("duplicate JSON keys: the last one wins, the same for verification and for the identity", () => {
  it("roles: the last list decides, for native grants and CEL rules alike", async () => {
    expect(await reach(issued(payload('"roles":["admin"],"roles":[]')))).toEqual({ status: 200, listed: [], ran: [], subject: "jsmith" });
    expect(await reach(issued(payload('"roles":[],"roles":["admin"]')))).toEqual({ status: 200, listed: ["echo", "add"], ran: ["echo", "add"], subject: "jsmith" });
  });

  it("sub: the last one is logged and is what the deny rule sees", async () => {
    expect(await reach(issued(payload('"roles":["admin"],"sub":"mallory","sub":"jsmith"')))).toEqual({
      status: 200,
      listed: ["echo", "add"],
      ran: ["echo", "add"],
      subject: "jsmith",
    });
    expect(await reach(issued(payload('"roles":["admin"],"sub":"jsmith","sub":"mallory"')))).toEqual({ status: 200, listed: [], ran: [], subject: "mallory" });
  });

  it("exp and aud: the last one is what is checked", async () => {
    const past = nowSeconds() - 3600;
    const future = nowSeconds() + 600;
    expect((await reach(issued(payload(`"roles":["admin"],"exp":${past},"exp":${future}`)))).ran).toEqual(["echo", "add"]);
    await expectRefused(issued(payload(`"roles":["admin"],"exp":${future},"exp":${past}`)), /^token expired: /);
    expect((await reach(issued(payload('"roles":["admin"],"aud":"other-api","aud":"mcp.example.com"')))).ran).toEqual(["echo", "add"]);
    await expectRefused(issued(payload('"roles":["admin"],"aud":"mcp.example.com","aud":"other-api"')), /^wrong audience: .*other-api/);
  });

  it("alg and kid in the header: the last one is what is verified", async () => {
    // The provider's own RS256 signature in every case; only the header's last alg / kid differs.
    expect((await reach(issued(payload(), header('"alg":"none","alg":"RS256"')))).ran).toEqual(["echo", "add"]);
    await expectRefused(issued(payload(), header('"alg":"RS256","alg":"none"')), /^signature algorithm not allowed: .*none/);
    const kid = JSON.stringify(idp.key.kid);
    expect((await reach(issued(payload(), `{"alg":"RS256","kid":"unknown-kid","kid":${kid}}`))).ran).toEqual(["echo", "add"]);
    await expectRefused(issued(payload(), `{"alg":"RS256","kid":${kid},"kid":"unknown-kid"}`), /^unknown signing key: /);
  });

  it("a duplicate roles appended to a payload the issuer signed breaks the signature", async () => {
    const [signedHeader, , signature] = issued(payload('"roles":[]')).split(".");
    await expectRefused(`${signedHeader}.${b64url(payload('"roles":[],"roles":["admin"]'))}.${signature}`, /^invalid signature: /);
  });

  it("roles smuggled under __proto__ or constructor are removed, not inherited", async () => {
    expect(await reach(issued(payload('"__proto__":{"roles":["admin"]}')))).toEqual({ status: 200, listed: [], ran: [], subject: "jsmith" });
    expect(await reach(issued(payload('"constructor":{"roles":["admin"]}')))).toEqual({ status: 200, listed: [], ran: [], subject: "jsmith" });
  });
});

describe("claims of the wrong type", () => {
  // ROLES_CLAIM (native grants) takes a list of strings, a string, or a space-separated string; anything else is no
  // roles. A CEL rule reads the raw claim instead: `"admin" in jwt.roles` is CEL's `in`, which is false (an
  // evaluation error) on a string and tests the keys of a map.
  it.each([
    ["a list", '["admin"]', ["echo", "add"]],
    ["a list with non-strings beside it", '[1,null,{"name":"admin"},["admin"],"admin"]', ["echo", "add"]],
    ["a single string", '"admin"', ["echo"]],
    ["a space-separated string", '"employee admin"', ["echo"]],
    ["a list of non-strings only", '[1,{"name":"admin"},["admin"]]', []],
    ["a number", "1", []],
    ["true", "true", []],
    ["null", "null", []],
    ["an empty string", '""', []],
    ["a map of role to true", '{"admin":true}', ["add"]],
    ["a map of role to false", '{"admin":false}', ["add"]],
  ] as const)("roles as %s: %j", async (_, roles, allowed) => {
    const outcome = await reach(issued(payload(`"roles":${roles}`)));
    expect(outcome).toEqual({ status: 200, listed: allowed, ran: allowed, subject: "jsmith" });
  });

  it("roles missing: nothing allowed", async () => {
    expect(await reach(issued(payload("")))).toEqual({ status: 200, listed: [], ran: [], subject: "jsmith" });
  });

  // RFC 9068 §2.2: sub is required in JWT access tokens.
  it("sub missing or empty: refused, even when the issuer signed it", async () => {
    await expectRefused(issued(payload('"roles":["admin"]', ["sub"])), /^token has no sub claim: access tokens name their subject \(RFC 9068 §2\.2\)/);
    await expectRefused(issued(payload('"roles":["admin"],"sub":""')), /^token has an empty sub claim: /);
  });

  it("sub missing, from an issuer set to JWT_REQUIRE_SUB=false: accepted without a subject; roles still decide, and a rule on jwt.sub does not hold", async () => {
    const lenient = await startGateway(gatewayEnv({ JWT_REQUIRE_SUB: "false" }));
    extraGateways.push(lenient);
    const outcome = await reach(issued(payload('"roles":["admin"]', ["sub"])), lenient);
    expect(outcome).toEqual({ status: 200, listed: ["echo", "add"], ran: ["echo", "add"], subject: undefined });
  });

  it.each([
    ["sub as a number", '"sub":7', /^malformed token: JWT payload sub claim is not a string$/],
    ["sub as a list naming someone else", '"sub":["mallory"]', /^malformed token: JWT payload sub claim is not a string$/],
    ["sub as null", '"sub":null', /^malformed token: JWT payload sub claim is not a string$/],
    ["exp as a string", `"exp":"${nowSeconds() + 600}"`, /^malformed token: JWT payload exp claim is not a number$/],
    ["exp as null", '"exp":null', /^malformed token: JWT payload exp claim is not a number$/],
    ["exp overflowing to Infinity", '"exp":1e999', /^malformed token: JWT payload exp claim is not a number$/],
    ["nbf as a string", '"nbf":"0"', /^malformed token: JWT payload nbf claim is not a number$/],
    ["iat as a string", '"iat":"0"', /^malformed token: JWT payload iat claim is not a number$/],
    ["iss as a list holding the issuer", `"iss":[${JSON.stringify(ISSUER)}]`, /^malformed token: JWT payload iss claim is not a string$/],
    ["aud with a number beside the audience", `"aud":[${JSON.stringify(AUDIENCE)},1]`, /^malformed token: JWT payload aud claim is not a string or array of strings$/],
    ["aud as an object", `"aud":{"${AUDIENCE}":true}`, /^malformed token: JWT payload aud claim is not a string or array of strings$/],
    ["scope as a list", '"scope":["openid"]', /^malformed token: JWT payload scope claim is not a string$/],
  ] as const)("refuses %s as malformed, even when the issuer signed it", async (_, member, reason) => {
    await expectRefused(issued(payload(`"roles":["admin"],${member}`)), reason);
  });

  // aws-jwt-verify checks exp only when it is present (RFC 7519 makes it optional): the gateway refuses a token that
  // would never expire.
  it("exp missing: refused, even when the issuer signed it", async () => {
    const forever = issued(payload('"roles":["admin"]', ["exp"]));
    await expectRefused(forever, /^token has no exp claim: tokens that never expire are not accepted$/);
  });
});
