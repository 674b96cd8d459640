/**
 * The cache of verified identities, with a clock the test controls, in front of a stand-in verifier that applies
 * aws-jwt-verify's time rules (refused when exp < now, or nbf > now, in seconds) and counts what it is asked.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { identityFromClaims, type Identity } from "../../../functions/auth/identity.js";
import type { TokenVerifier } from "../../../functions/auth/token-verifier.js";
import { cacheVerifiedTokens, type VerifiedTokenCacheOptions } from "../../../functions/auth/verified-token-cache.js";
import { AuthenticationError, KeysUnavailableError } from "../../../functions/errors.js";

const T0 = 1_800_000_000_000;

let clock = T0;
let verifications: string[] = [];
let scopeChecks = 0;
/** The tokens the stand-in verifier accepts, and the claims each carries. */
let valid = new Map<string, Record<string, unknown>>();
/** Errors the stand-in throws, once each, before it looks at the token. */
let outages: Error[] = [];

const inner: TokenVerifier = {
  async verify(token) {
    verifications.push(token);
    const outage = outages.shift();
    if (outage) throw outage;
    const claims = valid.get(token);
    if (!claims) throw new AuthenticationError("invalid signature", true);
    const nowSeconds = clock / 1000;
    if ((claims.exp as number) < nowSeconds) throw new AuthenticationError("token expired", true);
    if (typeof claims.nbf === "number" && claims.nbf > nowSeconds) throw new AuthenticationError("token not yet valid", true);
    return identityFromClaims({ iss: "https://idp.example.com", ...claims }, "roles");
  },
  requireScopes() {
    scopeChecks++;
  },
  async warmUp() {},
};

function cached(options: VerifiedTokenCacheOptions = {}): TokenVerifier {
  return cacheVerifiedTokens(inner, { now: () => clock, ...options });
}

/** A token string the stand-in accepts, valid for `seconds` from now. */
function token(name: string, seconds = 3600, extra: Record<string, unknown> = {}): string {
  const text = `header.${name}.signature`;
  valid.set(text, { sub: name, exp: Math.floor(clock / 1000) + seconds, ...extra });
  return text;
}

beforeEach(() => {
  clock = T0;
  verifications = [];
  scopeChecks = 0;
  valid = new Map();
  outages = [];
});

describe("cached verifications", () => {
  it("verify a token once, then reuse its identity", async () => {
    const verifier = cached();
    const alice = token("alice");
    const first = await verifier.verify(alice);
    const second = await verifier.verify(alice);
    expect(second).toBe(first);
    expect(first.subject).toBe("alice");
    expect(verifications).toEqual([alice]);
  });

  it("still check scopes on every request", async () => {
    const verifier = cached();
    const alice = token("alice");
    for (let i = 0; i < 3; i++) verifier.requireScopes(await verifier.verify(alice));
    expect(scopeChecks).toBe(3);
    expect(verifications).toHaveLength(1);
  });

  it("are never used at or after the token's exp: from then on the token is verified, and refused", async () => {
    const verifier = cached();
    const alice = token("alice", 10);
    const exp = (valid.get(alice)!.exp as number) * 1000;
    await verifier.verify(alice);
    clock = exp - 1;
    await verifier.verify(alice);
    expect(verifications).toHaveLength(1);
    clock = exp;
    // aws-jwt-verify still accepts a token at its exp to the millisecond: the cache does not, and asks again.
    await verifier.verify(alice);
    expect(verifications).toHaveLength(2);
    clock = exp + 1;
    await expect(verifier.verify(alice)).rejects.toMatchObject({ reason: "token expired" });
    await expect(verifier.verify(alice)).rejects.toMatchObject({ reason: "token expired" });
    expect(verifications).toHaveLength(4);
  });

  it("are never used before the token's nbf (a clock set back)", async () => {
    const verifier = cached();
    const alice = token("alice", 3600, { nbf: Math.floor(T0 / 1000) });
    await verifier.verify(alice);
    clock = T0 - 1000;
    await expect(verifier.verify(alice)).rejects.toMatchObject({ reason: "token not yet valid" });
    expect(verifications).toHaveLength(2);
  });

  it("are reused for at most maxAgeMs, however long the token still runs", async () => {
    const verifier = cached({ maxAgeMs: 60_000 });
    const alice = token("alice", 3600);
    await verifier.verify(alice);
    clock = T0 + 59_999;
    await verifier.verify(alice);
    expect(verifications).toHaveLength(1);
    clock = T0 + 60_000;
    await verifier.verify(alice);
    expect(verifications).toHaveLength(2);
    // Verified again: another maxAgeMs from now.
    clock = T0 + 119_999;
    await verifier.verify(alice);
    expect(verifications).toHaveLength(2);
  });

  it("default to at most 5 minutes", async () => {
    const verifier = cached();
    const alice = token("alice", 3600);
    await verifier.verify(alice);
    clock = T0 + 299_999;
    await verifier.verify(alice);
    clock = T0 + 300_000;
    await verifier.verify(alice);
    expect(verifications).toHaveLength(2);
  });

  it("keep at most maxEntries identities, dropping the least recently used", async () => {
    const verifier = cached({ maxEntries: 2 });
    const [a, b, c] = [token("a"), token("b"), token("c")];
    await verifier.verify(a);
    await verifier.verify(b);
    await verifier.verify(a);
    await verifier.verify(c);
    expect(verifications).toEqual([a, b, c]);
    await verifier.verify(a);
    await verifier.verify(c);
    expect(verifications).toEqual([a, b, c]);
    await verifier.verify(b);
    expect(verifications).toEqual([a, b, c, b]);
  });

  it("never answer for a token differing in one character, wherever it is", async () => {
    const verifier = cached();
    const alice = token("alice");
    await verifier.verify(alice);
    for (let i = 0; i < alice.length; i++) {
      const altered = `${alice.slice(0, i)}${alice[i] === "x" ? "y" : "x"}${alice.slice(i + 1)}`;
      await expect(verifier.verify(altered)).rejects.toMatchObject({ reason: "invalid signature" });
    }
    await expect(verifier.verify(`${alice}x`)).rejects.toMatchObject({ reason: "invalid signature" });
    await expect(verifier.verify(alice.slice(0, -1))).rejects.toMatchObject({ reason: "invalid signature" });
    expect(verifications).toHaveLength(alice.length + 3);
  });

  it("remember no failure: a refused token is verified every time, and one refused for want of keys verifies later", async () => {
    const verifier = cached();
    for (let i = 0; i < 3; i++) await expect(verifier.verify("not.a.token")).rejects.toBeInstanceOf(AuthenticationError);
    expect(verifications).toHaveLength(3);

    const alice = token("alice");
    outages.push(new KeysUnavailableError("JWKS unavailable"));
    await expect(verifier.verify(alice)).rejects.toBeInstanceOf(KeysUnavailableError);
    expect((await verifier.verify(alice)).subject).toBe("alice");
    await verifier.verify(alice);
    expect(verifications).toHaveLength(5);
  });

  it("keep one identity per token: two tokens of the same caller are two entries", async () => {
    const verifier = cached();
    const first = token("alice", 3600, { roles: ["reader"] });
    const second = `${first}2`;
    valid.set(second, { sub: "alice", exp: Math.floor(T0 / 1000) + 3600, roles: ["admin"] });
    const identities: Identity[] = [await verifier.verify(first), await verifier.verify(second), await verifier.verify(first)];
    expect(identities.map((i) => i.roles)).toEqual([["reader"], ["admin"], ["reader"]]);
    expect(verifications).toEqual([first, second]);
  });
});
