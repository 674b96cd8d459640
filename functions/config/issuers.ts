/**
 * The identity providers the gateway trusts: one (JWT_ISSUER and friends) or several (JWT_ISSUERS, a JSON list), each
 * with its own audiences, keys, claim names, client ids and required scopes, and named presets for the usual IdPs:
 * their claim names, and what tells their access tokens from the other tokens they sign.
 */
import * as z from "zod/mini";
import "../zod-messages.js";
import { isLoopbackUrl } from "./loopback.js";

/**
 * What tells an identity provider's access tokens from the other JWTs it signs with the same keys (ID tokens, logout
 * tokens, refresh tokens), beyond the checks every issuer gets (see auth/token-kind.ts). A token failing one is 401.
 */
export type AccessTokenMarker =
  /** The claim must hold exactly this value; absent or any other value is refused (Cognito's `token_use`). */
  | { readonly claim: string; readonly equals: string }
  /** The claim, when present, must hold none of these values; each is named with what it means (Keycloak's `typ`). */
  | { readonly claim: string; readonly notOneOf: Readonly<Record<string, string>> }
  /** The token must carry at least one of these claims: every access token does, the IdP's ID tokens carry none. */
  | { readonly anyOfClaims: readonly string[] };

/** What a preset sets: the defaults of an issuer's claim settings, and the checks of its access tokens. */
interface Preset {
  rolesClaim: string;
  scopesClaim: string;
  audienceClaim: "aud" | "client_id";
  requireAtJwt: boolean;
  accessTokenMarkers: readonly AccessTokenMarker[];
}

/**
 * Named defaults for the usual identity providers' token shapes, and what each checks to accept access tokens only.
 *
 * `requireAtJwt` is false for every preset: none of these IdPs types every access token `at+jwt` (RFC 9068 §2.1) by
 * default, so requiring it would refuse their genuine tokens. Set `requireAtJwt` on an issuer that does (an Auth0 API
 * on the RFC 9068 profile, a Keycloak client with the `access.token.header.type.rfc9068` attribute).
 */
export const PRESETS = {
  /**
   * Microsoft Entra ID (v1 `https://sts.windows.net/<tenant>/` or v2 `https://login.microsoftonline.com/<tenant>/v2.0`):
   * app roles in `roles`, scopes in `scp`. Access tokens name their client (`azp` in v2, `appid` in v1) and user tokens
   * carry `scp`; ID tokens carry none of them (their `aud` is the client id, which is the API's own id when an app
   * calls its own API, and they may carry the user's `roles`), so a token with none of them is refused. `idtyp` is not
   * used: it appears only in access tokens, and by default only in app-only ones. Both token kinds are typed `JWT`.
   */
  entra: {
    rolesClaim: "roles",
    scopesClaim: "scp",
    audienceClaim: "aud",
    requireAtJwt: false,
    accessTokenMarkers: [{ anyOfClaims: ["azp", "appid", "scp"] }],
  },
  /**
   * Okta: groups in `groups` (add the groups claim to the authorization server), scopes in `scp`. Access tokens carry
   * the client in `cid` and the granted scopes in `scp`; ID tokens carry neither (their base claims are `amr`, `idp`,
   * `aud` = the client id...), so a token with neither is refused. Access token headers carry no `typ`.
   */
  okta: {
    rolesClaim: "groups",
    scopesClaim: "scp",
    audienceClaim: "aud",
    requireAtJwt: false,
    accessTokenMarkers: [{ anyOfClaims: ["cid", "scp"] }],
  },
  /**
   * Keycloak: realm roles in `realm_access.roles` (client roles: `resource_access.<client>.roles`), scopes in `scope`.
   * Keycloak names the kind of its OpenID Connect tokens in the `typ` claim, `Bearer` for access tokens: the other
   * kinds it defines are refused (a token without the claim is not). Access tokens may carry `nonce` (older versions, or the "Nonce backwards compatible" mapper),
   * so `nonce` proves nothing here. Headers are typed `JWT` unless the client opts in to `at+jwt`.
   */
  keycloak: {
    rolesClaim: "realm_access.roles",
    scopesClaim: "scope",
    audienceClaim: "aud",
    requireAtJwt: false,
    accessTokenMarkers: [
      {
        claim: "typ",
        notOneOf: { ID: "an ID token", Refresh: "a refresh token", Offline: "an offline token", Logout: "a logout token", "Serialized-ID": "a serialized ID token" },
      },
    ],
  },
  /**
   * Amazon Cognito: groups in `cognito:groups`; only access tokens (`token_use` "access") are accepted (ID tokens say
   * "id"), and as they carry no `aud`, the audiences are app client ids, matched against `client_id`. Headers carry
   * `kid` and `alg` only.
   */
  cognito: {
    rolesClaim: "cognito:groups",
    scopesClaim: "scope",
    audienceClaim: "client_id",
    requireAtJwt: false,
    accessTokenMarkers: [{ claim: "token_use", equals: "access" }],
  },
  /**
   * Auth0: roles in a namespaced custom claim (set `rolesClaim`, e.g. `https://example.com/roles`), scopes in `scope`.
   * Access tokens name their client: `azp` on the default Auth0 profile, `client_id` on the RFC 9068 profile; ID tokens
   * carry neither, so a token with neither is refused. The RFC 9068 profile types tokens `at+jwt`, the default profile
   * `JWT`; the profile is chosen per API.
   */
  auth0: {
    rolesClaim: "roles",
    scopesClaim: "scope",
    audienceClaim: "aud",
    requireAtJwt: false,
    accessTokenMarkers: [{ anyOfClaims: ["azp", "client_id"] }],
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;

export interface IssuerConfig {
  /** The exact `iss` value. */
  issuer: string;
  /** Accepted audiences; a token passes when any one matches (`aud`, or `client_id` for Cognito access tokens). */
  audience: string[];
  /** Which claim holds the audience: `aud`, or `client_id` (Cognito access tokens). */
  audienceClaim: "aud" | "client_id";
  /** The issuer's keys. Undefined: discovered from `<issuer>/.well-known/openid-configuration` (`jwks_uri`). */
  jwksUri: URL | undefined;
  /** The claim holding roles (a list, a string, or a space-separated string; dotted names are paths). */
  rolesClaim: string;
  /** The claim holding scopes (`scope` or `scp`; a space-separated string or a list). */
  scopesClaim: string;
  /** Allowed client applications (`azp` or `client_id`); empty: any. */
  clientIds: string[];
  /** Scopes every token must carry; a token without them gets 403 insufficient_scope. */
  requiredScopes: string[];
  /** Claims every token must carry; a token without one is invalid (401). */
  requiredClaims: string[];
  /**
   * Whether the `typ` header must say `at+jwt` (or `application/at+jwt`, compared case-insensitively), as RFC 9068
   * access tokens do; any other or none is 401. Default false (every preset's too): turn it on for an issuer that types
   * every access token so, and ID tokens and other JWTs it signs are refused whatever their claims.
   */
  requireAtJwt: boolean;
  /**
   * Whether every token must name its subject in a non-empty `sub` claim, as RFC 9068 §2.2 requires of JWT access
   * tokens; a token without one is 401. Default true (every preset's too). Turn it off only for an issuer whose access
   * tokens omit `sub` (a Keycloak client without the `basic` client scope, say): callers are then told apart by their
   * client (`azp`/`client_id`) alone, and policies cannot name them by `jwt.sub`.
   */
  requireSub: boolean;
  /** The preset's own checks that a token is an access token (see PRESETS); none without a preset. */
  accessTokenMarkers: readonly AccessTokenMarker[];
  /** The preset the defaults came from, if any. */
  preset: PresetName | undefined;
}

/** A list of names: a JSON list, or a comma-separated string (blank entries dropped). */
const list = (error = "must be a list of names (or a comma-separated string)") =>
  z.union(
    [
      z.pipe(z.string(), z.transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean))),
      z.array(z.string().check(z.minLength(1))),
    ],
    { error },
  );

const AUDIENCE_REQUIRED = "is required (one or more audiences, comma-separated)";

/** A value with surrounding spaces removed, which must not be empty then. */
const name = z.string().check(z.trim(), z.minLength(1));

/** An on/off setting: a JSON boolean in JWT_ISSUERS, or the text `true` / `false` (every environment variable). */
const onOff = () =>
  z.optional(z.union([z.boolean(), z.pipe(z.enum(["true", "false"]), z.transform((v) => v === "true"))], { error: "must be true or false" }));

/** One issuer as written in JWT_ISSUERS (or assembled from the single-issuer variables). */
export const issuerEntrySchema = z.strictObject({
  issuer: z.string({ error: "is required" }).check(z.trim(), z.minLength(1, { error: "is required" })),
  audience: z.pipe(list(AUDIENCE_REQUIRED), z.array(z.string()).check(z.minLength(1, { error: AUDIENCE_REQUIRED }))),
  jwksUri: z.optional(z.string().check(z.trim(), z.refine((v) => URL.canParse(v), { error: "must be an absolute URL" }))),
  preset: z.optional(z.enum(Object.keys(PRESETS) as [PresetName, ...PresetName[]], { error: `must be one of ${Object.keys(PRESETS).join(", ")}` })),
  rolesClaim: z.optional(name),
  scopesClaim: z.optional(name),
  clientIds: z.optional(list()),
  requiredScopes: z.optional(list()),
  requiredClaims: z.optional(list()),
  requireAtJwt: onOff(),
  requireSub: onOff(),
});

export type IssuerEntry = z.input<typeof issuerEntrySchema>;

function isHttpsUrl(value: string): boolean {
  return URL.canParse(value) && new URL(value).protocol === "https:";
}

/** Problems with an entry that the schema cannot see: where keys come from, and whether they may be fetched in clear. */
export function issuerProblems(entry: z.output<typeof issuerEntrySchema>): string[] {
  const problems: string[] = [];
  if (entry.jwksUri) {
    const url = new URL(entry.jwksUri);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackUrl(url))) {
      problems.push(`jwksUri must use https (plain http is accepted on loopback addresses only): ${url.href}`);
    }
  } else if (!isHttpsUrl(entry.issuer) && !(URL.canParse(entry.issuer) && isLoopbackUrl(new URL(entry.issuer)))) {
    problems.push("jwksUri is required when the issuer is not an https URL (keys are otherwise found by OIDC discovery)");
  }
  return problems;
}

export function toIssuerConfig(entry: z.output<typeof issuerEntrySchema>): IssuerConfig {
  const preset = entry.preset ? PRESETS[entry.preset] : undefined;
  return {
    issuer: entry.issuer,
    audience: entry.audience,
    audienceClaim: preset?.audienceClaim ?? "aud",
    jwksUri: entry.jwksUri ? new URL(entry.jwksUri) : undefined,
    rolesClaim: entry.rolesClaim ?? preset?.rolesClaim ?? "roles",
    scopesClaim: entry.scopesClaim ?? preset?.scopesClaim ?? "scope",
    clientIds: entry.clientIds ?? [],
    requiredScopes: entry.requiredScopes ?? [],
    requiredClaims: entry.requiredClaims ?? [],
    requireAtJwt: entry.requireAtJwt ?? preset?.requireAtJwt ?? false,
    // RFC 9068 makes `sub` required in JWT access tokens, and every preset's IdP sets it by default.
    requireSub: entry.requireSub ?? true,
    accessTokenMarkers: preset?.accessTokenMarkers ?? [],
    preset: entry.preset,
  };
}

/** Single-issuer variable → field of an issuer entry (so problems name the variable a user set). */
const SINGLE_ISSUER_VARIABLES: Readonly<Record<string, keyof IssuerEntry>> = {
  JWT_ISSUER: "issuer",
  JWT_AUDIENCE: "audience",
  JWKS_URI: "jwksUri",
  JWT_PRESET: "preset",
  ROLES_CLAIM: "rolesClaim",
  JWT_SCOPES_CLAIM: "scopesClaim",
  JWT_CLIENT_IDS: "clientIds",
  JWT_REQUIRED_SCOPES: "requiredScopes",
  JWT_REQUIRED_CLAIMS: "requiredClaims",
  JWT_REQUIRE_AT_JWT: "requireAtJwt",
  JWT_REQUIRE_SUB: "requireSub",
};

export const ISSUER_VARIABLES = ["JWT_ISSUERS", ...Object.keys(SINGLE_ISSUER_VARIABLES)];

function entryProblems(raw: unknown, name: (field: string) => string): { config?: IssuerConfig; problems: string[] } {
  const parsed = issuerEntrySchema.safeParse(raw);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((issue) => `${name(String(issue.path[0] ?? ""))} ${issue.message}`.trim()) };
  }
  const problems = issuerProblems(parsed.data).map((p) => {
    const [field, ...rest] = p.split(" ");
    return `${name(field as string)} ${rest.join(" ")}`;
  });
  return problems.length > 0 ? { problems } : { config: toIssuerConfig(parsed.data), problems };
}

/**
 * The trusted issuers, from JWT_ISSUERS (a JSON list of entries with the fields of IssuerConfig; `audience` and the
 * lists may be comma-separated strings) or from the single-issuer variables (JWT_ISSUER, JWT_AUDIENCE, JWKS_URI,
 * JWT_PRESET, ROLES_CLAIM, JWT_SCOPES_CLAIM, JWT_CLIENT_IDS, JWT_REQUIRED_SCOPES, JWT_REQUIRED_CLAIMS,
 * JWT_REQUIRE_AT_JWT: `true` or `false`, default false or the preset's, and JWT_REQUIRE_SUB: `true` or `false`,
 * default true).
 */
export function issuersFromEnv(env: Record<string, string | undefined>): { issuers: IssuerConfig[]; problems: string[] } {
  const singles = Object.keys(SINGLE_ISSUER_VARIABLES).filter((name) => env[name] !== undefined);
  if (env.JWT_ISSUERS === undefined) {
    const entry = Object.fromEntries(
      Object.entries(SINGLE_ISSUER_VARIABLES).flatMap(([variable, field]) => (env[variable] === undefined ? [] : [[field, env[variable]]])),
    );
    const variableFor = Object.fromEntries(Object.entries(SINGLE_ISSUER_VARIABLES).map(([variable, field]) => [field, variable]));
    const { config, problems } = entryProblems(entry, (field) => variableFor[field] ?? field);
    return { issuers: config ? [config] : [], problems };
  }
  if (singles.length > 0) {
    return { issuers: [], problems: [`JWT_ISSUERS and ${singles.join(", ")} are both set; describe every issuer in JWT_ISSUERS`] };
  }
  let list: unknown;
  try {
    list = JSON.parse(env.JWT_ISSUERS);
  } catch {
    return { issuers: [], problems: ["JWT_ISSUERS must be a JSON list of issuers, e.g. [{\"issuer\":\"https://...\",\"audience\":\"api://mcp\"}]"] };
  }
  if (!Array.isArray(list) || list.length === 0) return { issuers: [], problems: ["JWT_ISSUERS must be a non-empty JSON list of issuers"] };
  const results = list.map((raw, index) => entryProblems(raw, (field) => `JWT_ISSUERS[${index}]${field ? `.${field}` : ""}`));
  const issuers = results.flatMap((r) => (r.config ? [r.config] : []));
  const problems = results.flatMap((r) => r.problems);
  const seen = new Set<string>();
  for (const issuer of issuers) {
    if (seen.has(issuer.issuer)) problems.push(`JWT_ISSUERS lists the issuer ${issuer.issuer} twice`);
    seen.add(issuer.issuer);
  }
  return { issuers, problems };
}
