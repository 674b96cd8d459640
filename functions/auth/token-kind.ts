/**
 * Tells an access token from the other JWTs an identity provider signs with the same keys: ID tokens, logout tokens,
 * security event tokens (SETs), refresh tokens. Where the configured audience is a client id (Keycloak, Entra for an
 * app's own API, Okta or Auth0 set up so), those tokens carry an audience the gateway accepts, and only these checks
 * keep them from being used as bearer credentials.
 *
 * Every issuer gets the checks of the specifications:
 * - the `typ` header, compared as RFC 7515 §4.1.9 says (case-insensitive, `application/` optional): the types of
 *   logout tokens (`logout+jwt`, OpenID Connect Back-Channel Logout 1.0 §2.4) and SETs (`secevent+jwt`, RFC 8417
 *   §2.3) are refused, and so are the two that implementations give ID tokens (OpenID Connect defines none); and where
 *   the issuer is set to `requireAtJwt`, anything but `at+jwt` (RFC 9068 §2.1, §4);
 * - claims only other kinds of token carry: `events` (required in SETs and logout tokens; RFC 8417 §4.6 asks access
 *   token validators to look for it), `at_hash` and `c_hash` (hashes, in an ID token, of the access token or code
 *   issued with it; OpenID Connect Core 1.0 §3.1.3.6, §3.3.2.11).
 * `nonce` is not among them: Keycloak access tokens may carry it.
 *
 * Then the preset's own markers (PRESETS in config/issuers.ts).
 */
import type { AccessTokenMarker } from "../config/issuers.js";

export interface TokenKindRules {
  /** The `typ` header must be `at+jwt` (IssuerConfig.requireAtJwt). */
  requireAtJwt: boolean;
  /** The preset's markers (IssuerConfig.accessTokenMarkers). */
  markers: readonly AccessTokenMarker[];
}

type Json = Readonly<Record<string, unknown>>;

/** `typ` values (as full media types) that are not access tokens, with what they are. */
const OTHER_TOKEN_TYPES: ReadonlyMap<string, string> = new Map([
  ["application/logout+jwt", "a logout token"],
  ["application/secevent+jwt", "a security event token"],
  // Registered nowhere, but in use for ID tokens: id_token+jwt (rodauth-oauth), id+jwt (o3co auth.provider).
  ["application/id_token+jwt", "an ID token"],
  ["application/id+jwt", "an ID token"],
]);

const ACCESS_TOKEN_TYPE = "application/at+jwt";

/** Claims that only other kinds of token carry, with which kinds. */
const OTHER_TOKEN_CLAIMS: ReadonlyArray<readonly [string, string]> = [
  ["events", "security event and logout tokens"],
  ["at_hash", "ID tokens"],
  ["c_hash", "ID tokens"],
];

/**
 * A `typ` value as the media type it names (RFC 7515 §4.1.9): media types are case-insensitive, and a value without
 * a `/` stands for `application/<value>`.
 */
export function typMediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes("/") ? lower : `application/${lower}`;
}

function headerRefusal(header: Json, requireAtJwt: boolean): string | undefined {
  const typ = header.typ;
  if (typ === undefined) return requireAtJwt ? 'not an access token: header typ is missing, expected "at+jwt"' : undefined;
  if (typeof typ !== "string") return "malformed token: header typ is not a string";
  const other = OTHER_TOKEN_TYPES.get(typMediaType(typ));
  if (other) return `not an access token: header typ is ${JSON.stringify(typ)} (${other})`;
  if (requireAtJwt && typMediaType(typ) !== ACCESS_TOKEN_TYPE) return `not an access token: header typ is ${JSON.stringify(typ)}, expected "at+jwt"`;
  return undefined;
}

function present(claims: Json, name: string): boolean {
  return Object.hasOwn(claims, name) && claims[name] !== undefined && claims[name] !== null;
}

function markerRefusal(claims: Json, marker: AccessTokenMarker): string | undefined {
  if ("anyOfClaims" in marker) {
    if (marker.anyOfClaims.some((name) => present(claims, name))) return undefined;
    return `not an access token: it has none of the claims ${marker.anyOfClaims.join(", ")}, one of which every access token of this issuer carries`;
  }
  const value = claims[marker.claim];
  if ("equals" in marker) {
    return value === marker.equals ? undefined : `not an access token: ${marker.claim} is ${JSON.stringify(value)}, expected ${JSON.stringify(marker.equals)}`;
  }
  const meaning = typeof value === "string" && Object.hasOwn(marker.notOneOf, value) ? marker.notOneOf[value] : undefined;
  return meaning ? `not an access token: claim ${marker.claim} is ${JSON.stringify(value)} (${meaning})` : undefined;
}

/** The log reason for refusing a verified token as not an access token, or undefined when nothing says it is not one. */
export function notAnAccessToken(header: Json, claims: Json, rules: TokenKindRules): string | undefined {
  const byHeader = headerRefusal(header, rules.requireAtJwt);
  if (byHeader) return byHeader;
  const other = OTHER_TOKEN_CLAIMS.find(([name]) => Object.hasOwn(claims, name));
  if (other) return `not an access token: claim ${other[0]} is present (only ${other[1]} carry it)`;
  for (const marker of rules.markers) {
    const refusal = markerRefusal(claims, marker);
    if (refusal) return refusal;
  }
  return undefined;
}
