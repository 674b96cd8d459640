/**
 * The tokens the gateway minted for the backend, kept per caller and reused while more than half of their lifetime
 * remains: signing (ES256 or RS256) is the one per-request cost of a backend token, and a caller's requests come in
 * runs. A backend still always receives a token that has at least half its lifetime ahead of it.
 *
 * A token is reused only for requests carrying exactly the claims it was minted with, from the same issuer (the
 * gateway's public URL) and the same signing key. Reuse means a token's `jti` is seen on several requests: it names
 * the token, not the request, so a backend must not treat it as a one-time nonce.
 */
import { LruMap } from "../cache/lru-map.js";

export interface MintedTokensOptions {
  /** The most callers whose token is kept; beyond, the least recently used is dropped. Default 1,000. */
  maxEntries?: number;
  /** Clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

export const MINTED_TOKENS_DEFAULTS = { maxEntries: 1_000 } as const;

export interface MintedToken {
  token: string;
  /** When the token was minted and when it expires, in milliseconds since the epoch. */
  issuedAtMs: number;
  expiresAtMs: number;
}

export class MintedTokens<Key> {
  private entries: LruMap<string, MintedToken>;
  private key: Key | undefined;
  private readonly now: () => number;
  private readonly maxEntries: number;

  constructor(options: MintedTokensOptions = {}) {
    this.maxEntries = options.maxEntries ?? MINTED_TOKENS_DEFAULTS.maxEntries;
    this.now = options.now ?? Date.now;
    this.entries = new LruMap(this.maxEntries);
  }

  /**
   * The token kept for `claims` from this issuer and signing key, if more than half its lifetime remains; otherwise a
   * fresh one from `mint`, kept in its place. A different signing key (rotation, or a reload) forgets every token.
   */
  async get(signingKey: Key, issuer: string, claims: Readonly<Record<string, unknown>>, mint: () => Promise<MintedToken>): Promise<string> {
    if (signingKey !== this.key) {
      this.entries = new LruMap(this.maxEntries);
      this.key = signingKey;
    }
    const id = JSON.stringify([issuer, claims]);
    const kept = this.entries.get(id);
    if (kept && kept.expiresAtMs - this.now() > (kept.expiresAtMs - kept.issuedAtMs) / 2) return kept.token;
    const minted = await mint();
    this.entries.set(id, minted);
    return minted.token;
  }
}
