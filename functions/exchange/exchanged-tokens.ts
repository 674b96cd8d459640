/**
 * The tokens a server's exchange obtained, kept per caller: a caller's requests come in runs, and each exchange is a
 * round trip to the identity provider. A token is kept under a digest of the caller's own token (so two callers, or
 * two tokens of one caller, never share one), reused while more than a safety margin of its lifetime remains, and
 * the cache is bounded (least recently used dropped first). Concurrent first requests of one caller share one
 * exchange. Failures are not kept: the next request asks again. Tokens are never logged.
 */
import { createHash } from "node:crypto";
import { LruMap } from "../cache/lru-map.js";
import type { ExchangedToken } from "./token-request.js";

export interface ExchangedTokensOptions {
  /** The most callers whose token is kept. Default 1,000. */
  maxEntries?: number;
  /** Reuse while more than this remains, in milliseconds (at most half the token's lifetime). */
  marginMs: number;
  /** Clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

interface Kept {
  token: string;
  obtainedAtMs: number;
  expiresAtMs: number;
}

export class ExchangedTokens {
  private readonly kept: LruMap<string, Kept>;
  private readonly pending = new Map<string, Promise<string>>();
  private readonly now: () => number;

  constructor(private readonly options: ExchangedTokensOptions) {
    this.kept = new LruMap(options.maxEntries ?? 1_000);
    this.now = options.now ?? Date.now;
  }

  /** The token kept for this caller's token while still fresh, else the one `exchange` obtains (kept when it says its expiry). */
  async get(subjectToken: string, exchange: () => Promise<ExchangedToken>): Promise<string> {
    const key = createHash("sha256").update(subjectToken).digest("base64url");
    const kept = this.kept.get(key);
    if (kept) {
      const margin = Math.min(this.options.marginMs, (kept.expiresAtMs - kept.obtainedAtMs) / 2);
      if (kept.expiresAtMs - this.now() > margin) return kept.token;
      this.kept.delete(key);
    }
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const obtainedAtMs = this.now();
    const exchanged = exchange()
      .then(({ token, expiresAtMs }) => {
        if (expiresAtMs !== undefined) this.kept.set(key, { token, obtainedAtMs, expiresAtMs });
        return token;
      })
      .finally(() => this.pending.delete(key));
    this.pending.set(key, exchanged);
    return exchanged;
  }
}
