/**
 * Backends acting as the user: the gateway exchanges the caller's token at a real OpenID Provider (oidc-provider with
 * RFC 8693 token exchange and an Entra-shaped on-behalf-of grant) for a token the provider issues to that user for
 * the backend's own audience; the backend (a real MCP SDK server) verifies it against the provider's JWKS and runs
 * as the subject it names. Client secrets and keys come from SSM and Secrets Manager (moto's server).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateSigningKey, publicJwk } from "../../functions/demo/identity-provider.js";
import { GATEWAY_AUDIENCE, startExchangeProvider, type ExchangeProvider } from "../support/exchange-provider.js";
import { startOidcProvider } from "../support/oidc-provider.js";
import { POLICIES, connectClient, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startTokenVerifyingBackend, type TokenVerifyingBackend } from "../support/token-verifying-backend.js";

const DOCS = "api://docs-mcp";
const SHORT = "api://short-mcp";
const secrets = { basic: randomBytes(16).toString("hex"), post: randomBytes(16).toString("hex") };
const places = {
  basicSecret: `/mcp-sso-gateway-test/${randomUUID()}/exchange-secret`,
  postSecret: `mcp-sso-gateway-test/${randomUUID()}/exchange-secret`,
  privateKey: `/mcp-sso-gateway-test/${randomUUID()}/exchange-key`,
};
const whoami = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "whoami", arguments: {} } });

let provider: ExchangeProvider;
let docs: TokenVerifyingBackend;
let short: TokenVerifyingBackend;
const gateways: TestGateway[] = [];
const clients: Client[] = [];

/** The exchange settings of the RFC 8693 client authenticated with its secret from SSM, plus overrides. */
function rfc8693(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { tokenEndpoint: provider.tokenEndpoint, clientId: "gateway-basic", clientSecret: { ssmParameter: places.basicSecret }, audience: DOCS, scope: "docs.read", ...extra };
}

async function gatewayFor(servers: Array<Record<string, unknown>>): Promise<TestGateway> {
  const gateway = await startGateway({
    MCP_BACKENDS: JSON.stringify(servers),
    JWT_ISSUER: provider.issuer,
    JWT_AUDIENCE: GATEWAY_AUDIENCE,
    JWKS_URI: provider.jwksUri,
    POLICY_FILE: POLICIES.allowAll,
  });
  gateways.push(gateway);
  return gateway;
}

async function client(url: string, token: string): Promise<Client> {
  const connected = await connectClient(url, token);
  clients.push(connected);
  return connected;
}

const exchangesOf = (subject: string) => provider.exchanges.filter((e) => e.subject === subject);

beforeAll(async () => {
  const privateKey = await generateSigningKey("ES256");
  provider = await startExchangeProvider({
    audiences: { [DOCS]: { scopes: ["docs.read"], ttlSeconds: 600 }, [SHORT]: { scopes: ["short.read"], ttlSeconds: 2 } },
    clients: [
      { id: "gateway-basic", method: "client_secret_basic", secret: secrets.basic },
      { id: "gateway-post", method: "client_secret_post", secret: secrets.post },
      { id: "gateway-jwt", method: "private_key_jwt", publicKey: publicJwk(privateKey) },
    ],
  });
  docs = await startTokenVerifyingBackend({ issuer: provider.issuer, jwksUri: provider.jwksUri, audience: DOCS });
  short = await startTokenVerifyingBackend({ issuer: provider.issuer, jwksUri: provider.jwksUri, audience: SHORT });
  const ssm = new SSMClient({});
  await ssm.send(new PutParameterCommand({ Name: places.basicSecret, Value: secrets.basic, Type: "SecureString", Overwrite: true }));
  await ssm.send(new PutParameterCommand({ Name: places.privateKey, Value: JSON.stringify(privateKey), Type: "SecureString", Overwrite: true }));
  await new SecretsManagerClient({}).send(new CreateSecretCommand({ Name: places.postSecret, SecretString: secrets.post }));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all([docs?.close(), short?.close()]);
  await provider?.close();
});
beforeEach(() => {
  provider.refused.clear();
  provider.tokenDelayMs = 0;
});

describe("token exchange (RFC 8693)", () => {
  it("runs an SDK client's calls as the calling user, with a token for the backend's audience obtained once", async () => {
    const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: rfc8693() }]);
    const callerToken = await provider.callerToken("alice");
    const alice = await client(gateway.url, callerToken);
    for (let i = 0; i < 3; i++) expect(await alice.callTool({ name: "whoami", arguments: {} })).toMatchObject({ content: [{ text: JSON.stringify({ sub: "alice", aud: DOCS }) }] });

    const ranAs = docs.ranAs.filter((r) => r.sub === "alice");
    expect(ranAs).toHaveLength(3);
    expect(ranAs.map((r) => [r.aud, r.scope])).toEqual([[DOCS, "docs.read"], [DOCS, "docs.read"], [DOCS, "docs.read"]]);
    expect(new Set(ranAs.map((r) => r.token)).size).toBe(1);
    expect(exchangesOf("alice")).toEqual([{ grant: "token-exchange", client: "gateway-basic", subject: "alice", audience: DOCS }]);
    expect(docs.authorizations).not.toContain(`Bearer ${callerToken}`);
    expect(docs.refused).toBe(0);
  });

  it("never gives one user another's token, and shares one exchange among a user's concurrent first requests", async () => {
    const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: rfc8693() }]);
    const [bobToken, carolToken] = await Promise.all([provider.callerToken("bob"), provider.callerToken("carol")]);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => postRaw(gateway.url, whoami(i), { authorization: `Bearer ${i % 2 === 0 ? bobToken : carolToken}` })),
    );
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const bob = docs.ranAs.filter((r) => r.sub === "bob");
    const carol = docs.ranAs.filter((r) => r.sub === "carol");
    expect([bob.length, carol.length]).toEqual([3, 3]);
    expect(new Set(bob.map((r) => r.token)).size).toBe(1);
    expect(new Set(carol.map((r) => r.token)).size).toBe(1);
    expect(bob[0]?.token).not.toBe(carol[0]?.token);
    expect([exchangesOf("bob").length, exchangesOf("carol").length]).toEqual([1, 1]);
  });

  it("exchanges a short-lived token again once less than its margin remains", async () => {
    const gateway = await gatewayFor([{ name: "short", url: short.url, tokenExchange: rfc8693({ audience: SHORT, scope: "short.read" }) }]);
    const auth = { authorization: `Bearer ${await provider.callerToken("dave")}` };
    await postRaw(gateway.url, whoami(1), auth);
    await postRaw(gateway.url, whoami(2), auth);
    expect(exchangesOf("dave")).toHaveLength(1);
    // A 2-second token is reused while more than half of it (1 s) remains.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await postRaw(gateway.url, whoami(3), auth)).status).toBe(200);
    expect(exchangesOf("dave")).toHaveLength(2);
    expect(short.ranAs.filter((r) => r.sub === "dave")).toHaveLength(3);
    expect(short.refused).toBe(0);
  });

  it("answers a refused exchange (invalid_grant) with a JSON-RPC error naming the server and the code, forwarding nothing", async () => {
    const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: rfc8693() }]);
    provider.refused.set("mallory", "invalid_grant");
    const before = docs.authorizations.length;
    const response = await postRaw(gateway.url, whoami(7), { authorization: `Bearer ${await provider.callerToken("mallory")}` });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: number; error: { code: number; message: string } };
    expect(body).toMatchObject({ id: 7, error: { code: -32001 } });
    expect(body.error.message).toContain('server "docs"');
    expect(body.error.message).toContain("invalid_grant");
    expect(docs.authorizations.length).toBe(before);
    expect(gateway.logger.last()).toMatchObject({ status: 200, reason: expect.stringContaining('token exchange for server "docs" refused by the identity provider: invalid_grant') });
  });

  it("answers a refused scope with 403 insufficient_scope, forwarding nothing", async () => {
    const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: rfc8693({ scope: "docs.write" }) }]);
    const before = docs.authorizations.length;
    const response = await postRaw(gateway.url, whoami(1), { authorization: `Bearer ${await provider.callerToken("erin")}` });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_scope"/);
    expect(await response.json()).toMatchObject({ id: 1, error: { code: -32001, message: expect.stringContaining("invalid_scope") } });
    expect(docs.authorizations.length).toBe(before);
  });

  it("answers 502 when the provider is down and 504 when it is slow, forwarding nothing", async () => {
    const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: rfc8693({ timeoutMs: 500 }) }]);
    const [frank, grace] = await Promise.all([provider.callerToken("frank"), provider.callerToken("grace")]);
    // The gateway has the provider's keys from this first call, so the callers' tokens are still verified.
    expect((await postRaw(gateway.url, whoami(1), { authorization: `Bearer ${frank}` })).status).toBe(200);
    const before = docs.authorizations.length;

    provider.tokenDelayMs = 1_500;
    const slow = await postRaw(gateway.url, whoami(2), { authorization: `Bearer ${grace}` });
    expect(slow.status).toBe(504);
    expect(await slow.json()).toMatchObject({ id: 2, error: { code: -32004 } });
    expect(gateway.logger.last()).toMatchObject({ status: 504, reason: expect.stringContaining("did not answer within 500 ms") });
    provider.tokenDelayMs = 0;

    await provider.stop();
    try {
      const down = await postRaw(gateway.url, whoami(3), { authorization: `Bearer ${grace}` });
      expect(down.status).toBe(502);
      expect(await down.json()).toMatchObject({ id: 3, error: { code: -32003 } });
      expect(gateway.logger.last()).toMatchObject({ status: 502, reason: expect.stringMatching(/token exchange for server "docs" failed: .* could not be reached/) });
    } finally {
      await provider.start();
    }
    expect(docs.authorizations.length).toBe(before);
  });

  it("authenticates with private_key_jwt (key from SSM) at the endpoint found by discovery from the issuer", async () => {
    const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: rfc8693({ tokenEndpoint: undefined, issuer: provider.issuer, clientId: "gateway-jwt", clientSecret: undefined, privateKey: { ssmParameter: places.privateKey } }) }]);
    const response = await postRaw(gateway.url, whoami(1), { authorization: `Bearer ${await provider.callerToken("heidi")}` });
    expect(response.status).toBe(200);
    expect(exchangesOf("heidi")).toEqual([{ grant: "token-exchange", client: "gateway-jwt", subject: "heidi", audience: DOCS }]);
    expect(docs.ranAs.filter((r) => r.sub === "heidi")).toHaveLength(1);
  });

  it("sends no credentials to a token endpoint named by a discovery document of another issuer", async () => {
    const impostor = await startOidcProvider({ documentIssuer: "https://idp.example.com" });
    try {
      const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: rfc8693({ tokenEndpoint: undefined, issuer: impostor.issuer }) }]);
      const response = await postRaw(gateway.url, whoami(1), { authorization: `Bearer ${await provider.callerToken("leo")}` });
      expect(response.status).toBe(502);
      expect(gateway.logger.last()).toMatchObject({ status: 502, reason: expect.stringContaining(`no token endpoint: OIDC discovery of ${impostor.issuer} failed`) });
      expect(gateway.logger.lines.some((l) => l.message === "token endpoint discovery failed" && String(l.fields.error).includes("names another issuer"))).toBe(true);
      expect(impostor.tokenRequests).toEqual([]);
      expect(docs.ranAs.some((r) => r.sub === "leo")).toBe(false);
    } finally {
      await impostor.close();
    }
  });
});

describe("Entra ID on-behalf-of", () => {
  const obo = () => ({ idp: "entra", tokenEndpoint: provider.tokenEndpoint, clientId: "gateway-post", clientSecret: { secretId: places.postSecret }, scope: `${DOCS}/.default` });

  it("obtains the user's token for the API named in scope, with the secret from Secrets Manager", async () => {
    const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: obo() }]);
    const ivan = await client(gateway.url, await provider.callerToken("ivan"));
    await ivan.callTool({ name: "whoami", arguments: {} });
    await ivan.callTool({ name: "whoami", arguments: {} });
    expect(docs.ranAs.filter((r) => r.sub === "ivan").map((r) => r.aud)).toEqual([DOCS, DOCS]);
    expect(exchangesOf("ivan")).toEqual([{ grant: "on-behalf-of", client: "gateway-post", subject: "ivan", audience: DOCS }]);
  });

  it("names AADSTS65001 when consent is missing", async () => {
    const gateway = await gatewayFor([{ name: "docs", url: docs.url, tokenExchange: obo() }]);
    provider.refused.set("judy", "consent");
    const response = await postRaw(gateway.url, whoami(4), { authorization: `Bearer ${await provider.callerToken("judy")}` });
    expect(await response.json()).toMatchObject({ id: 4, error: { code: -32001, message: expect.stringContaining('server "docs" (invalid_grant (AADSTS65001, consent_required))') } });
    expect(docs.ranAs.some((r) => r.sub === "judy")).toBe(false);
  });
});

describe("on the aggregated endpoint", () => {
  it("fails a call routed to a server whose exchange is refused, and lists that server as unavailable", async () => {
    const gateway = await gatewayFor([
      { name: "docs", url: docs.url, tokenExchange: rfc8693() },
      { name: "short", url: short.url, tokenExchange: rfc8693({ audience: SHORT, scope: "short.read" }) },
    ]);
    const kim = await client(gateway.url, await provider.callerToken("kim"));
    expect((await kim.listTools()).tools.map((t) => t.name).sort()).toEqual(["docs_whoami", "short_whoami"]);
    await kim.callTool({ name: "short_whoami", arguments: {} });
    // Once short's 2-second token needs renewing, the provider refuses kim; docs' token is still fresh.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    provider.refused.set("kim", "invalid_grant");
    const before = short.authorizations.length;
    await expect(kim.callTool({ name: "short_whoami", arguments: {} })).rejects.toThrow(/server "short" \(invalid_grant\)/);
    expect((await kim.listTools()).tools.map((t) => t.name)).toEqual(["docs_whoami"]);
    expect(gateway.logger.last()).toMatchObject({ status: 200, serversUnavailable: ["short"] });
    expect(await kim.callTool({ name: "docs_whoami", arguments: {} })).toMatchObject({ content: [{ text: JSON.stringify({ sub: "kim", aud: DOCS }) }] });
    expect(short.authorizations.length).toBe(before);
  });
});
