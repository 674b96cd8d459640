/**
 * Signing keys over time, through the real gateway over HTTP, with keys found by OIDC discovery on a local issuer:
 * a key published after warm-up, bursts of tokens under unknown kids, and a JWKS endpoint that fails or disappears
 * after warm-up. The JWKS endpoint's request count is asserted each time, since not hammering it is the point.
 *
 * The bounds asserted come from aws-jwt-verify 5's SimpleJwksCache (the gateway keeps it, with its own fetcher):
 * - a kid found in the cached JWKS costs no fetch at all;
 * - a kid not found triggers one refetch of the JWKS, unless the JWKS URI is in the penalty box; concurrent refetches
 *   of one URI share a single request;
 * - a refetch that still lacks the kid puts the URI in the penalty box for 10 s (per URI, not per kid); while it is
 *   there every unknown kid is refused at once ("Not allowed to fetch JWKS yet"), a newly rotated genuine key too;
 * - a refetch that fails (an HTTP error, a refused connection) registers nothing: no penalty, cache kept.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, type SigningJwk } from "../../functions/demo/identity-provider.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { providerPaths, startOidcProvider, type OidcProvider } from "../support/oidc-provider.js";

/** aws-jwt-verify's SimplePenaltyBox default wait. */
const PENALTY_MS = 10_000;
const UNAVAILABLE = { code: -32002, message: "Service unavailable: the identity provider's signing keys could not be fetched" };

let backend: TestBackend;
let upstream: CountingProxy;
let policyFile: string;
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  backend = await startBackend();
  upstream = await startCountingProxy(backend.url);
  policyFile = join(await mkdtemp(join(tmpdir(), "rotation-")), "policy.yaml");
  await writeFile(policyFile, "tools:\n  echo: ['*']\n");
});

afterAll(async () => {
  for (const c of closers.reverse()) await c.close();
  await upstream?.close();
  await backend?.close();
});

async function setUp(realm: string): Promise<{ idp: OidcProvider; gateway: TestGateway; jwksFetches: () => number }> {
  const idp = await startOidcProvider({ issuerPath: `/realms/${realm}` });
  const gateway = await startGateway({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: policyFile, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: "mcp-gateway" });
  closers.push(idp, gateway);
  const { jwks } = providerPaths(idp);
  return { idp, gateway, jwksFetches: () => idp.requests(jwks) };
}

async function initialize(gateway: TestGateway, token: string): Promise<{ status: number; body: unknown; reason: unknown; relayed: string[] }> {
  const before = upstream.requests.length;
  const response = await postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${token}` });
  const text = await response.text();
  const body: unknown = response.headers.get("content-type") === "application/json" ? JSON.parse(text) : text;
  // Written once the response is complete (for a concurrent burst, see below).
  const reason = gateway.logger.last().reason;
  return { status: response.status, body, reason, relayed: upstream.requests.slice(before) };
}

describe("key rotation", () => {
  let idp: OidcProvider;
  let gateway: TestGateway;
  let jwksFetches: () => number;
  beforeAll(async () => {
    ({ idp, gateway, jwksFetches } = await setUp("rotate"));
  });

  it("accepts a key published after warm-up, at the cost of exactly one JWKS fetch", async () => {
    const { discovery } = providerPaths(idp);
    expect([idp.requests(discovery), jwksFetches()]).toEqual([1, 1]);
    expect((await initialize(gateway, await idp.token())).status).toBe(200);
    expect(jwksFetches()).toBe(1);

    const next = await generateSigningKey();
    idp.keys.push(next);
    const rotated = await initialize(gateway, await idp.token({}, { key: next, subject: "rotated" }));
    expect(rotated.status).toBe(200);
    expect(gateway.logger.last()).toMatchObject({ status: 200, subject: "rotated", decision: "allowed" });
    expect(rotated.relayed).toEqual(["POST /mcp"]);
    // The refetch went to the remembered jwks_uri: the discovery document was not read again.
    expect([idp.requests(discovery), jwksFetches()]).toEqual([1, 2]);
    // Both keys are now cached: neither costs a fetch.
    expect((await initialize(gateway, await idp.token())).status).toBe(200);
    expect((await initialize(gateway, await idp.token({}, { key: next }))).status).toBe(200);
    expect(jwksFetches()).toBe(2);
  });

  it("does not hammer the JWKS endpoint with a burst of unknown kids: one fetch per 10 s penalty window", async () => {
    const before = jwksFetches();
    const stranger = await generateSigningKey();
    const forged = await Promise.all(Array.from({ length: 20 }, () => idp.token({}, { key: { ...stranger, kid: randomUUID() } })));
    const logged = gateway.logger.requests().length;
    const relayed = upstream.requests.length;
    const burst = await Promise.all(forged.map((token) => postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${token}` })));
    const burstEnded = Date.now();
    expect(burst.map((response) => response.status)).toEqual(Array(20).fill(401));
    const lines = gateway.logger.requests().slice(logged);
    expect(lines).toHaveLength(20);
    for (const line of lines) expect(line).toMatchObject({ status: 401, decision: "denied", reason: expect.stringMatching(/^unknown signing key: /) });
    expect(upstream.requests.slice(relayed)).toEqual([]);
    // 20 concurrent unknown kids: one shared refetch, then the URI is in the penalty box.
    expect(jwksFetches()).toBe(before + 1);

    for (const token of forged.slice(0, 5)) {
      const refused = await initialize(gateway, token);
      expect(refused.status).toBe(401);
      expect(refused.reason).toBe("unknown signing key: Not allowed to fetch JWKS yet, still waiting for back off period to end");
    }
    // A genuine rotation inside the window is refused the same way (the box is per URI, not per kid): the price of
    // the bound. A forged kid every 10 s can delay a real rotation by up to 10 s.
    const third = await generateSigningKey();
    idp.keys.push(third);
    const early = await initialize(gateway, await idp.token({}, { key: third }));
    expect([early.status, early.reason]).toEqual([401, "unknown signing key: Not allowed to fetch JWKS yet, still waiting for back off period to end"]);
    expect(jwksFetches()).toBe(before + 1);
    expect(backend.executed).toEqual([]);

    // Once the window has passed, the new key costs one more fetch and is accepted.
    await sleep(PENALTY_MS + 300 - (Date.now() - burstEnded));
    expect((await initialize(gateway, await idp.token({}, { key: third }))).status).toBe(200);
    expect(jwksFetches()).toBe(before + 2);
  }, PENALTY_MS + 15_000);
});

describe("JWKS endpoint failing after warm-up", () => {
  let idp: OidcProvider;
  let gateway: TestGateway;
  let jwksFetches: () => number;
  let unknown: SigningJwk;
  beforeAll(async () => {
    ({ idp, gateway, jwksFetches } = await setUp("outage"));
    unknown = await generateSigningKey();
  });

  async function expectUnavailable(token: string, reason: RegExp): Promise<void> {
    const refused = await initialize(gateway, token);
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ jsonrpc: "2.0", id: null, error: UNAVAILABLE });
    expect(refused.reason).toMatch(reason);
    expect(gateway.logger.last()).toMatchObject({ status: 503, decision: "denied" });
    expect(refused.relayed).toEqual([]);
  }

  it("answering 500: cached keys still verify; an unknown kid is 503 (keys unavailable), not 401", async () => {
    expect(jwksFetches()).toBe(1);
    idp.failJwks(500);
    // The cached key needs no fetch at all.
    expect((await initialize(gateway, await idp.token({}, { subject: "known" }))).status).toBe(200);
    expect(gateway.logger.last()).toMatchObject({ status: 200, subject: "known" });
    expect(jwksFetches()).toBe(1);

    // An unknown kid needs a refetch, which fails: the token was never judged, so 503 (retry later), never a 401 that
    // would tell the client its token is bad. That holds for a genuinely rotated key as much as for a forged one.
    const reason = new RegExp(`^JWKS unavailable: Failed to fetch ${idp.jwksUri}: Status code is 500, expected 200$`);
    await expectUnavailable(await idp.token({}, { key: unknown }), reason);
    expect(jwksFetches()).toBe(2);
    // A failed fetch registers no penalty, so each request with an unknown kid tries again: one fetch per request
    // while the endpoint fails (sequential requests; concurrent ones would share a fetch).
    await expectUnavailable(await idp.token({}, { key: unknown }), reason);
    await expectUnavailable(await idp.token({}, { key: await generateSigningKey() }), reason);
    expect(jwksFetches()).toBe(4);
    // The failed fetches did not empty the cache.
    expect((await initialize(gateway, await idp.token())).status).toBe(200);
    expect(jwksFetches()).toBe(4);
    expect(backend.executed).toEqual([]);
  });

  it("gone altogether: cached keys still verify, an unknown kid is 503; back again, the new key verifies", async () => {
    idp.failJwks(undefined);
    idp.keys.push(unknown);
    const { port, keys } = idp;
    await idp.close();

    expect((await initialize(gateway, await idp.token())).status).toBe(200);
    const reason = new RegExp(`^JWKS unavailable: Failed to fetch ${idp.jwksUri}: fetch failed: connect ECONNREFUSED \\S+:${port}$`);
    await expectUnavailable(await idp.token({}, { key: unknown }), reason);
    await expectUnavailable(await idp.token({}, { key: unknown }), reason);

    const back = await startOidcProvider({ issuerPath: "/realms/outage", port, keys });
    closers.push(back);
    expect(back.issuer).toBe(idp.issuer);
    const accepted = await initialize(gateway, await back.token({}, { key: unknown, subject: "after-outage" }));
    expect(accepted.status).toBe(200);
    expect(accepted.relayed).toEqual(["POST /mcp"]);
    expect(back.requests(providerPaths(back).jwks)).toBe(1);
  });
});
