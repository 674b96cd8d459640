/**
 * Verifies the caller's JWT with aws-jwt-verify (signature against the issuer's JWKS, `iss`, `aud`, `exp` and `sub` required, `nbf`),
 * accepts access tokens only (no `crit`, no ID, logout or security event tokens: critical-header.ts, token-kind.ts),
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
  ParameterValidationError,
  WaitPeriodNotYetEndedJwkError,
} from "aws-jwt-verify/error";
import type { JwtHeader, JwtPayload } from "aws-jwt-verify/jwt-model";
import type { GatewayConfig } from "../config/gateway-config.js";
import type { IssuerConfig } from "../config/issuers.js";
import { AuthenticationError, InsufficientScopeError, KeysUnavailableError } from "../errors.js";
import { criticalHeaderRefusal } from "./critical-header.js";
import { identityFromClaims, readClaim, type Identity } from "./identity.js";
import { JwksFetcher, discoveryUrl } from "./jwks-fetcher.js";
import { notAnAccessToken } from "./token-kind.js";

export interface TokenVerifier {
  /** Resolves to the caller's identity, or rejects with AuthenticationError or KeysUnavailableError. */
  verify(token: string): Promise<Identity>;
  /**
   * Throws InsufficientScopeError (403) when a verified caller lacks the scopes its issuer requires. Separate from
   * `verify`, since the token is valid and the caller known: the refusal is logged with who was refused.
   */
  requireScopes(identity: Identity): void;
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
  if (err instanceof AuthenticationError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  if (KEY_FAILURES.some((cls) => err instanceof cls)) {
    return new KeysUnavailableError(`JWKS unavailable: ${detail}`, { cause: err });
  }
  // With several issuers, aws-jwt-verify reports a token from an issuer it was not given as a parameter problem.
  if (err instanceof ParameterValidationError && detail.startsWith("issuer not configured")) {
    return new AuthenticationError(`wrong issuer: ${detail}`, true, { cause: err });
  }
  const known = REASONS.find(([cls]) => err instanceof cls);
  return new AuthenticationError(`${known ? known[1] : "token rejected"}: ${detail}`, true, { cause: err });
}

/**
 * Checks aws-jwt-verify cannot express, run once the signature, issuer and audience have passed: no `crit`, an access
 * token and no other kind, an expiry, a subject (unless the issuer is set not to require one), Cognito-style
 * audiences, allowed client applications, required claims.
 */
function issuerChecks(issuer: IssuerConfig) {
  const kindRules = { requireAtJwt: issuer.requireAtJwt, markers: issuer.accessTokenMarkers };
  return ({ header, payload }: { header: JwtHeader; payload: JwtPayload }) => {
    // What kind of token this is comes first: a logout token or SET without exp is refused as what it is.
    const refusal = criticalHeaderRefusal(header) ?? notAnAccessToken(header, payload, kindRules);
    if (refusal) throw new AuthenticationError(refusal, true);
    // aws-jwt-verify checks exp only when present (RFC 7519 makes it optional); a token without one would never
    // expire, and every corporate IdP sets it on access tokens.
    if (payload.exp === undefined) throw new AuthenticationError("token has no exp claim: tokens that never expire are not accepted", true);
    // RFC 9068 §2.2 requires sub in JWT access tokens; without it a caller is anonymous to the policy (`jwt.sub`), the
    // access log and the backend. aws-jwt-verify has already refused a sub that is not a string.
    if (issuer.requireSub && (payload.sub === undefined || payload.sub === "")) {
      const what = payload.sub === undefined ? "no sub claim" : "an empty sub claim";
      throw new AuthenticationError(`token has ${what}: access tokens name their subject (RFC 9068 §2.2); requireSub false (JWT_REQUIRE_SUB) admits an issuer's tokens without one`, true);
    }
    if (issuer.audienceClaim === "client_id") {
      // Cognito access tokens carry the app client in client_id and no aud (token_use was checked as a marker).
      const client = payload.client_id;
      if (typeof client !== "string" || !issuer.audience.includes(client)) {
        throw new AuthenticationError(`wrong audience: client ${JSON.stringify(client)} is not one of ${issuer.audience.join(", ")}`, true);
      }
    }
    if (issuer.clientIds.length > 0) {
      const client = payload.azp ?? payload.client_id;
      if (typeof client !== "string" || !issuer.clientIds.includes(client)) {
        throw new AuthenticationError(`client not allowed: ${JSON.stringify(client)} is not one of ${issuer.clientIds.join(", ")}`, true);
      }
    }
    const missing = issuer.requiredClaims.filter((claim) => readClaim(payload, claim) === undefined);
    if (missing.length > 0) throw new AuthenticationError(`token lacks required claim${missing.length === 1 ? "" : "s"}: ${missing.join(", ")}`, true);
  };
}

export function createTokenVerifier(config: Pick<GatewayConfig, "issuers">): TokenVerifier {
  const verifier = JwtVerifier.create(
    config.issuers.map((issuer) => ({
      issuer: issuer.issuer,
      // Cognito access tokens have no aud: the audience is checked against client_id in issuerChecks instead.
      audience: issuer.audienceClaim === "aud" ? issuer.audience : null,
      jwksUri: issuer.jwksUri?.href ?? discoveryUrl(issuer.issuer),
      customJwtCheck: issuerChecks(issuer),
    })),
    { jwksCache: new SimpleJwksCache({ fetcher: new JwksFetcher() }) },
  );
  const byIssuer = new Map(config.issuers.map((issuer) => [issuer.issuer, issuer]));
  return {
    async verify(token) {
      let claims: JwtPayload;
      try {
        claims = await verifier.verify(token);
      } catch (err) {
        throw classifyVerificationError(err);
      }
      const issuer = byIssuer.get(claims.iss as string) as IssuerConfig;
      return identityFromClaims(claims, issuer.rolesClaim, issuer.scopesClaim);
    },
    requireScopes(identity) {
      const required = byIssuer.get(identity.claims.iss as string)?.requiredScopes ?? [];
      const missing = required.filter((scope) => !identity.scopes.includes(scope));
      if (missing.length > 0) throw new InsufficientScopeError(missing, required);
    },
    async warmUp() {
      await verifier.hydrate().catch(() => undefined);
    },
  };
}
