/**
 * Remembers the identities of tokens that verified, so that a caller sending the same token request after request
 * pays for one signature check and its claim checks, not one per request.
 *
 * - Keyed by the SHA-256 of the token, never the token itself: a heap dump or a stray log of the cache holds nothing a
 *   caller could replay, and every key is the same small size, however large the tokens.
 * - An entry is used only inside the token's own validity, [nbf, exp) to the millisecond, so a cached token is refused
 *   from its `exp` on exactly as a fresh verification would refuse it (aws-jwt-verify refuses only after `exp`; the
 *   cache stops a moment earlier, never later); and for at most `maxAgeMs` after it was verified, so that what could
 *   change a verification's outcome (a signing key withdrawn from the JWKS, for instance) is taken into account
 *   within that time.
 * - Failures are not remembered: a bad token costs a verification every time, as before. Remembering them would save
 *   nothing for legitimate callers, would let anyone flood the cache with junk and push real entries out, and some
 *   failures are not final (an unknown `kid` verifies once the key is published; keys unavailable is a 503).
 * - Only `verify` is cached: `requireScopes` still runs on every request, on the identity, as before.
 */
import { hash } from "node:crypto";
import { LruMap } from "../cache/lru-map.js";
import type { Identity } from "./identity.js";
import type { TokenVerifier } from "./token-verifier.js";

export interface VerifiedTokenCacheOptions {
  /** The most identities kept; beyond, the least recently used is dropped. Default 1,000. */
  maxEntries?: number;
  /**
   * Milliseconds a verification is reused at most, however long the token still runs: the longest a withdrawn key or
   * a changed JWKS can go unnoticed for a token already seen. Default 300,000 (5 minutes).
   */
  maxAgeMs?: number;
  /** Clock, in milliseconds since the epoch. Default `Date.now` (tests pass their own). */
  now?: () => number;
}

export const VERIFIED_TOKEN_CACHE_DEFAULTS = { maxEntries: 1_000, maxAgeMs: 300_000 } as const;

interface Entry {
  identity: Identity;
  /** From when the entry may be used (the token's nbf), in milliseconds. */
  from: number;
  /** Until when, exclusive: the token's exp, or the end of the entry's maximum age, whichever comes first. */
  until: number;
}

/** Seconds of a NumericDate claim, as milliseconds; undefined when the claim is not a finite number. */
function claimMs(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value * 1000 : undefined;
}

/** Wraps a verifier so that identities of tokens seen recently are reused (see the module comment for the rules). */
export function cacheVerifiedTokens(verifier: TokenVerifier, options: VerifiedTokenCacheOptions = {}): TokenVerifier {
  const maxAgeMs = options.maxAgeMs ?? VERIFIED_TOKEN_CACHE_DEFAULTS.maxAgeMs;
  const now = options.now ?? Date.now;
  const entries = new LruMap<string, Entry>(options.maxEntries ?? VERIFIED_TOKEN_CACHE_DEFAULTS.maxEntries);
  return {
    async verify(token) {
      const key = hash("sha256", token, "base64url");
      const at = now();
      const entry = entries.get(key);
      if (entry && at >= entry.from && at < entry.until) return entry.identity;
      if (entry) entries.delete(key);
      // Rejections propagate and leave nothing behind.
      const identity = await verifier.verify(token);
      // The verifier insists on exp; a token without a usable one is simply not remembered.
      const exp = claimMs(identity.claims.exp);
      if (exp !== undefined) entries.set(key, { identity, from: claimMs(identity.claims.nbf) ?? -Infinity, until: Math.min(exp, at + maxAgeMs) });
      return identity;
    },
    requireScopes: (identity) => verifier.requireScopes(identity),
    warmUp: () => verifier.warmUp(),
  };
}
