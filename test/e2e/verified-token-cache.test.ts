/**
 * The gateway reuses the identity of a token it verified recently (auth/verified-token-cache.ts). Through the real
 * gateway over HTTP, with a real JWKS on loopback: a token accepted, and so remembered, is refused from the moment it
 * expires; and a token altered in any way is verified afresh, and refused, however recently the original was seen.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { INITIALIZE, POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { AUDIENCE, ISSUER, nowSeconds, startIdentityProvider, tamperedToken, unsignedToken, type TestIdentityProvider } from "../support/identity-provider.js";

let idp: TestIdentityProvider;
let backend: TestBackend;
let upstream: CountingProxy;
let gateway: TestGateway;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startBackend();
  upstream = await startCountingProxy(backend.url);
  gateway = await startGateway(gatewaySettings(idp, upstream.url, { POLICY_FILE: POLICIES.allowAll }));
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await backend?.close();
  await idp?.close();
});

/** Sends initialize with the token; the status, and the access-log line of that request. */
async function initialize(token: string): Promise<{ status: number; line: Record<string, unknown> }> {
  const response = await postRaw(gateway.url, INITIALIZE, bearer(token));
  await response.body?.cancel();
  return { status: response.status, line: gateway.logger.last() };
}

describe("remembered tokens", () => {
  it("are refused once expired, though accepted (and remembered) until then", async () => {
    const token = await idp.token({ subject: "short-lived", expiresIn: 2 });
    const exp = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8")).exp as number;
    for (let i = 0; i < 3; i++) expect(await initialize(token)).toMatchObject({ status: 200, line: { subject: "short-lived" } });

    // aws-jwt-verify refuses a token once its exp (in seconds) is past.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 + 100 - Date.now())));
    const relayedBefore = upstream.requests.length;
    for (let i = 0; i < 2; i++) {
      const { status, line } = await initialize(token);
      expect(status).toBe(401);
      expect(line.reason).toMatch(/^token expired: /);
    }
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);
  });

  it("never stand in for an altered token: another payload, a signature changed in one character, a header swapped", async () => {
    const token = await idp.token({ subject: "jsmith", claims: { roles: ["reader"] } });
    expect((await initialize(token)).status).toBe(200);
    const [header, payload, signature] = token.split(".") as [string, string, string];
    // A character in the middle of the signature: the last one may carry only padding bits.
    const middle = Math.floor(signature.length / 2);
    const flipped = `${signature.slice(0, middle)}${signature[middle] === "A" ? "B" : "A"}${signature.slice(middle + 1)}`;
    const altered = [
      { token: tamperedToken(token, { iss: ISSUER, aud: AUDIENCE, sub: "jsmith", roles: ["admin"], exp: nowSeconds() + 600 }), reason: /^invalid signature: / },
      { token: `${header}.${payload}.${flipped}`, reason: /^invalid signature: / },
      { token: `${unsignedToken(idp.key, { sub: "jsmith" }).split(".")[0]}.${payload}.${signature}`, reason: /^signature algorithm not allowed: / },
      { token: `${token}x`, reason: /^(invalid signature|malformed token): / },
    ];
    const relayedBefore = upstream.requests.length;
    for (const { token: variant, reason } of altered) {
      const { status, line } = await initialize(variant);
      expect(status).toBe(401);
      expect(line.reason).toMatch(reason);
      expect(line).not.toHaveProperty("subject");
    }
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);
    // The original is still good.
    expect(await initialize(token)).toMatchObject({ status: 200, line: { subject: "jsmith" } });
  });
});
