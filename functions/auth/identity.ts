/** Who the caller is, as far as authorization is concerned: the verified claims and the roles read from them. */
import type { JwtPayload } from "aws-jwt-verify/jwt-model";

export interface Identity {
  /** The token's `sub` claim, when present. */
  subject: string | undefined;
  /** Every verified claim of the token, as the policy's `jwt.*` variables. */
  claims: Readonly<JwtPayload>;
  /** Roles read from the configured roles claim; empty when the claim is absent or not a string or list of strings. */
  roles: readonly string[];
  /** Scopes read from the issuer's scopes claim (`scope` or `scp`). */
  scopes: readonly string[];
}

/**
 * Reads a claim by name. A name with dots is tried as is first (Auth0 namespaces claims with URLs such as
 * `https://example.com/roles`), then as a path into nested objects (Keycloak's `realm_access.roles`).
 */
export function readClaim(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split(".")) {
    if (value === null || typeof value !== "object" || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * Roles (or scopes) from a claim value: a list of strings, a single string, or a space-separated string.
 * Anything else: none.
 */
export function rolesFromClaim(value: unknown): string[] {
  if (typeof value === "string") return value.split(/\s+/).filter((role) => role.length > 0);
  if (Array.isArray(value)) return value.filter((role): role is string => typeof role === "string");
  return [];
}

export function identityFromClaims(claims: JwtPayload, rolesClaim: string, scopesClaim = "scope"): Identity {
  return {
    subject: typeof claims.sub === "string" ? claims.sub : undefined,
    claims,
    roles: rolesFromClaim(readClaim(claims, rolesClaim)),
    scopes: rolesFromClaim(readClaim(claims, scopesClaim)),
  };
}
