/**
 * A short-lived token the gateway mints for backend requests, naming the verified caller: the backend learns who
 * is calling, and can check it against the gateway's published JWKS, without ever seeing the caller's own token.
 * A caller's token is reused while more than half its lifetime remains (minted-tokens.ts). The signing key (a private
 * JWK) is read from SSM or Secrets Manager, cached, and the last good key kept.
 */
import { SignJWT, importJWK, type CryptoKey, type JWK, type KeyObject } from "jose";
import { readClaim } from "../auth/identity.js";
import { RefreshingValue } from "../cache/refreshing-value.js";
import type { BackendTokenConfig } from "../config/gateway-config.js";
import { UpstreamError } from "../errors.js";
import type { GatewayLogger } from "../logging.js";
import type { Identity } from "../policy/types.js";
import { MintedTokens, type MintedTokensOptions } from "./minted-tokens.js";
import { describeSecret, readSecret } from "./secret-source.js";

/** How long the signing key is used before it is read again, in milliseconds (key rotation reaches every instance). */
const KEY_MAX_AGE_MS = 300_000;
/** Private JWK members, left out of the published key. */
const PRIVATE_MEMBERS = new Set(["d", "p", "q", "dp", "dq", "qi", "k"]);

export interface SigningKey {
  key: CryptoKey | KeyObject | Uint8Array;
  kid: string;
  alg: string;
  publicJwk: JWK;
}

export interface BackendTokenMinter {
  /** The header carrying a fresh token for this caller; rejects with UpstreamError when no key can be had. */
  header(identity: Identity, issuer: string): Promise<readonly [string, string]>;
  /** The public keys backends verify tokens with (the JWKS document), or undefined when no key can be had. */
  jwks(): Promise<{ keys: JWK[] } | undefined>;
}

/** A private JWK (JSON text) with `kid` and `alg`, imported for signing, with its public half. */
export async function loadSigningKey(text: string, what = "the backend token signing key"): Promise<SigningKey> {
  const jwk = JSON.parse(text) as JWK;
  if (typeof jwk.kid !== "string" || typeof jwk.alg !== "string" || typeof jwk.d !== "string") {
    throw new Error(`${what} must be a private JWK with kid and alg`);
  }
  const publicJwk = Object.fromEntries(Object.entries(jwk).filter(([member]) => !PRIVATE_MEMBERS.has(member))) as JWK;
  return { key: await importJWK(jwk, jwk.alg), kid: jwk.kid, alg: jwk.alg, publicJwk: { ...publicJwk, use: "sig" } };
}

export interface BackendTokenMinterOptions {
  /** Reads the private signing key (a JWK, as JSON text). Default: from `config.key` (SSM or Secrets Manager). */
  readKey?: () => Promise<string>;
  /** Clock, in milliseconds since the epoch, for the key's cache and the tokens' times. Default `Date.now`. */
  now?: () => number;
  /** The most callers whose token is kept. Default 1,000. */
  maxCachedTokens?: MintedTokensOptions["maxEntries"];
}

export function createBackendTokenMinter(config: BackendTokenConfig, logger: GatewayLogger, options: BackendTokenMinterOptions = {}): BackendTokenMinter {
  const now = options.now ?? Date.now;
  const readKey = options.readKey ?? (() => readSecret(config.key));
  const minted = new MintedTokens<SigningKey>({ maxEntries: options.maxCachedTokens, now });
  const signingKey = new RefreshingValue<SigningKey>(async () => loadSigningKey(await readKey()), {
    now,
    maxAgeMs: KEY_MAX_AGE_MS,
    onError: (err, keepingLastGood) =>
      logger.error(keepingLastGood ? "backend token key refresh failed; keeping the last good key" : "backend token key could not be read", {
        source: describeSecret(config.key),
        error: err instanceof Error ? err.message : String(err),
      }),
  });
  return {
    async header(identity, issuer) {
      const key = await signingKey.get();
      if (!key) throw new UpstreamError(`backend token signing key unavailable (${describeSecret(config.key)})`);
      const claims = Object.fromEntries(config.claims.flatMap((claim) => {
        const value = readClaim(identity.claims, claim);
        return value === undefined ? [] : [[claim, value]];
      }));
      const token = await minted.get(key, issuer, claims, async () => {
        const issuedAt = Math.floor(now() / 1000);
        const expiresAt = issuedAt + config.ttlSeconds;
        const signed = await new SignJWT(claims)
          .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
          .setIssuer(issuer)
          .setAudience(config.audience)
          .setIssuedAt(issuedAt)
          .setExpirationTime(expiresAt)
          .setJti(crypto.randomUUID())
          .sign(key.key);
        return { token: signed, issuedAtMs: issuedAt * 1000, expiresAtMs: expiresAt * 1000 };
      });
      return [config.header, config.header.toLowerCase() === "authorization" ? `Bearer ${token}` : token] as const;
    },
    async jwks() {
      const key = await signingKey.get();
      return key ? { keys: [key.publicJwk] } : undefined;
    },
  };
}
