/**
 * The identity providers the gateway trusts: one (JWT_ISSUER and friends) or several (JWT_ISSUERS, a JSON list), each
 * with its own audiences, keys, claim names, client ids and required scopes, and named presets for the usual IdPs.
 */
import * as z from "zod/mini";
import "../zod-messages.js";
import { isLoopbackUrl } from "./loopback.js";

/** Named defaults for the usual identity providers' token shapes. */
export const PRESETS = {
  /** Microsoft Entra ID (v1 `https://sts.windows.net/<tenant>/` or v2 `https://login.microsoftonline.com/<tenant>/v2.0`): app roles in `roles`, scopes in `scp`. */
  entra: { rolesClaim: "roles", scopesClaim: "scp", audienceClaim: "aud" },
  /** Okta: groups in `groups` (add the groups claim to the authorization server), scopes in `scp`. */
  okta: { rolesClaim: "groups", scopesClaim: "scp", audienceClaim: "aud" },
  /** Keycloak: realm roles in `realm_access.roles` (client roles: `resource_access.<client>.roles`), scopes in `scope`. */
  keycloak: { rolesClaim: "realm_access.roles", scopesClaim: "scope", audienceClaim: "aud" },
  /**
   * Amazon Cognito: groups in `cognito:groups`; only access tokens (`token_use` "access") are accepted, and as they
   * carry no `aud`, the audiences are app client ids, matched against `client_id`.
   */
  cognito: { rolesClaim: "cognito:groups", scopesClaim: "scope", audienceClaim: "client_id" },
  /** Auth0: roles in a namespaced custom claim (set `rolesClaim`, e.g. `https://example.com/roles`), scopes in `scope`. */
  auth0: { rolesClaim: "roles", scopesClaim: "scope", audienceClaim: "aud" },
} as const;

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
 * JWT_PRESET, ROLES_CLAIM, JWT_SCOPES_CLAIM, JWT_CLIENT_IDS, JWT_REQUIRED_SCOPES, JWT_REQUIRED_CLAIMS).
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
