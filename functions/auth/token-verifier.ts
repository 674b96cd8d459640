/**
 * Verifies the caller's JWT with aws-jwt-verify (signature against the issuer's JWKS, `iss`, `aud`, `exp`, `nbf`)
 * and turns each failure into an AuthenticationError whose `reason` says precisely what was wrong.
 */
import { JwtVerifier } from "aws-jwt-verify";
import { SimpleJwksCache } from "aws-jwt-verify/jwk";
import {
  FetchError,
  JwksNotAvailableInCacheError,
  JwksValidationError,
  JwkValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from "aws-jwt-verify/error";
import type { GatewayConfig } from "../config/gateway-config.js";
import { AuthenticationError, KeysUnavailableError } from "../errors.js";
import { identityFromClaims, type Identity } from "./identity.js";
import { JwksFetcher } from "./jwks-fetcher.js";

export interface TokenVerifier {
  /** Resolves to the caller's identity, or rejects with AuthenticationError / KeysUnavailableError. */
  verify(token: string): Promise<Identity>;
  /** Fetches the signing keys ahead of the first request (cold start); failures are left for `verify` to report. */
  warmUp(): Promise<void>;
}

/** aws-jwt-verify error classes, in the order they are tested, with the words that open the log reason. */
const REASONS: ReadonlyArray<readonly [new (...args: never[]) => Error, string]> = [
  [JwtExpiredError, "token expired"],
  [JwtNotBeforeError, "token not yet valid"],
  [JwtInvalidIssuerError, "wrong issuer"],
  [JwtInvalidAudienceError, "wrong audience"],
  [JwtInvalidSignatureAlgorithmError, "signature algorithm not allowed"],
  [JwtInvalidSignatureError, "invalid signature"],
  [JwtWithoutValidKidError, "token header has no usable kid"],
  [KidNotFoundInJwksError, "unknown signing key"],
  [WaitPeriodNotYetEndedJwkError, "unknown signing key"],
  [JwtParseError, "malformed token"],
];

/** Failures that mean the keys themselves could not be had: the token was never judged, so 503, not 401. */
const KEY_FAILURES = [FetchError, JwksValidationError, JwkValidationError, JwksNotAvailableInCacheError] as const;

export function classifyVerificationError(err: unknown): AuthenticationError | KeysUnavailableError {
  const detail = err instanceof Error ? err.message : String(err);
  if (KEY_FAILURES.some((cls) => err instanceof cls)) {
    return new KeysUnavailableError(`JWKS unavailable: ${detail}`, { cause: err });
  }
  const known = REASONS.find(([cls]) => err instanceof cls);
  return new AuthenticationError(`${known ? known[1] : "token rejected"}: ${detail}`, true, { cause: err });
}

export function createTokenVerifier(config: Pick<GatewayConfig, "issuer" | "audience" | "jwksUri" | "rolesClaim">): TokenVerifier {
  const verifier = JwtVerifier.create(
    { issuer: config.issuer, audience: config.audience, jwksUri: config.jwksUri.href },
    { jwksCache: new SimpleJwksCache({ fetcher: new JwksFetcher() }) },
  );
  return {
    async verify(token) {
      try {
        const claims = await verifier.verify(token);
        return identityFromClaims(claims, config.rolesClaim);
      } catch (err) {
        throw classifyVerificationError(err);
      }
    },
    async warmUp() {
      await verifier.hydrate().catch(() => undefined);
    },
  };
}
