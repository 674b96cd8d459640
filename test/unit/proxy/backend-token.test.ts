/**
 * The backend token minter with a clock the test controls and the signing key handed over directly: a caller's token
 * is reused while more than half its lifetime remains, and only for the same claims, issuer and key.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { identityFromClaims } from "../../../functions/auth/identity.js";
import type { BackendTokenConfig } from "../../../functions/config/gateway-config.js";
import { generateSigningKey, type SigningJwk } from "../../../functions/demo/identity-provider.js";
import { createBackendTokenMinter, type BackendTokenMinterOptions } from "../../../functions/proxy/backend-token.js";
import { CollectingLogger } from "../../support/gateway.js";

const T0 = 1_800_000_000_000;
const ISSUER = "https://gateway.example.com";
const TTL = 300;

let clock = T0;
let keys: SigningJwk[];
let keyReads = 0;

const config = (overrides: Partial<BackendTokenConfig> = {}): BackendTokenConfig => ({
  header: "X-Gateway-Token",
  key: { kind: "ssm", name: "/unused" },
  audience: "https://backend.example.com",
  ttlSeconds: TTL,
  claims: ["sub"],
  ...overrides,
});

function minter(overrides: Partial<BackendTokenConfig> = {}, options: BackendTokenMinterOptions = {}) {
  return createBackendTokenMinter(config(overrides), new CollectingLogger(), {
    now: () => clock,
    readKey: async () => JSON.stringify(keys[Math.min(keyReads++, keys.length - 1)]),
    ...options,
  });
}

const caller = (claims: Record<string, unknown>) => identityFromClaims({ iss: "https://idp.example.com", ...claims }, "roles");
const alice = caller({ sub: "alice", roles: ["reader"] });
const bob = caller({ sub: "bob" });

async function tokenFor(m: ReturnType<typeof minter>, identity = alice, issuer = ISSUER): Promise<string> {
  const [, value] = await m.header(identity, issuer);
  return value;
}

beforeEach(async () => {
  clock = T0;
  keyReads = 0;
  keys = [await generateSigningKey("ES256")];
});

describe("backend tokens", () => {
  it("are reused for the same caller, and are valid tokens naming it for the configured lifetime", async () => {
    const m = minter();
    const first = await tokenFor(m);
    expect(await tokenFor(m)).toBe(first);
    const jwks = createLocalJWKSet((await m.jwks())!);
    const { payload } = await jwtVerify(first, jwks, { issuer: ISSUER, audience: "https://backend.example.com", currentDate: new Date(clock) });
    expect(payload).toMatchObject({ sub: "alice", iat: T0 / 1000, exp: T0 / 1000 + TTL });
    expect(payload).not.toHaveProperty("roles");
  });

  it("are reused while more than half their lifetime remains, and minted afresh from then on", async () => {
    const m = minter();
    const first = await tokenFor(m);
    clock = T0 + (TTL * 1000) / 2 - 1;
    expect(await tokenFor(m)).toBe(first);
    clock = T0 + (TTL * 1000) / 2;
    const second = await tokenFor(m);
    expect(second).not.toBe(first);
    expect(decodeJwt(second)).toMatchObject({ iat: clock / 1000, exp: clock / 1000 + TTL });
    expect(decodeJwt(second).jti).not.toBe(decodeJwt(first).jti);
    expect(await tokenFor(m)).toBe(second);
  });

  it("are one per set of claims carried: another subject, or other values of a copied claim, get their own", async () => {
    const m = minter({ claims: ["sub", "roles"] });
    const reader = await tokenFor(m, alice);
    const admin = await tokenFor(m, caller({ sub: "alice", roles: ["admin"] }));
    const other = await tokenFor(m, bob);
    expect(new Set([reader, admin, other]).size).toBe(3);
    expect([reader, admin, other].map((t) => decodeJwt(t).roles)).toEqual([["reader"], ["admin"], undefined]);
    expect(await tokenFor(m, alice)).toBe(reader);
  });

  it("are shared by tokens of one caller that differ only in claims not copied", async () => {
    const m = minter({ claims: ["sub"] });
    expect(await tokenFor(m, caller({ sub: "alice", roles: ["admin"], email: "a@example.com" }))).toBe(await tokenFor(m, alice));
  });

  it("are one per issuer (the gateway's public URL, which may come from the request)", async () => {
    const m = minter();
    const one = await tokenFor(m, alice, "https://one.example.com");
    const two = await tokenFor(m, alice, "https://two.example.com");
    expect(one).not.toBe(two);
    expect([decodeJwt(one).iss, decodeJwt(two).iss]).toEqual(["https://one.example.com", "https://two.example.com"]);
  });

  it("are kept for at most maxCachedTokens callers, the least recently used dropped", async () => {
    const m = minter({}, { maxCachedTokens: 2 });
    const [a, b] = [await tokenFor(m, caller({ sub: "a" })), await tokenFor(m, caller({ sub: "b" }))];
    await tokenFor(m, caller({ sub: "a" }));
    await tokenFor(m, caller({ sub: "c" }));
    expect(await tokenFor(m, caller({ sub: "a" }))).toBe(a);
    expect(await tokenFor(m, caller({ sub: "b" }))).not.toBe(b);
  });

  it("are minted afresh with a new signing key, so none outlives the key that signed it", async () => {
    keys = [keys[0]!, await generateSigningKey("ES256")];
    const m = minter({ ttlSeconds: 3600 });
    const first = await tokenFor(m);
    // The key is read again after 5 minutes, well inside this token's half-life.
    clock = T0 + 300_000;
    const second = await tokenFor(m);
    expect(second).not.toBe(first);
    expect(decodeProtectedHeader(second).kid).toBe(keys[1]!.kid);
    expect(decodeProtectedHeader(first).kid).toBe(keys[0]!.kid);
  });
});
