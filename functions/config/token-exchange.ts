/**
 * A server's `tokenExchange` option (MCP_BACKENDS): the gateway trades the caller's token at the identity provider for
 * one issued to the caller for this server (RFC 8693 token exchange, or Entra ID on-behalf-of), so the server trusts
 * the provider rather than the gateway. Checked at start, with messages that name the field.
 *
 * ```json
 * "tokenExchange": {
 *   "idp": "okta", "issuer": "https://acme.okta.com/oauth2/aus1",
 *   "clientId": "0oa-gateway", "clientSecret": { "secretId": "gateway-okta-secret" },
 *   "audience": "api://jira-mcp", "scope": ["jira.read"]
 * }
 * ```
 */
import * as z from "zod/mini";
import "../zod-messages.js";
import { gatewayHeaderName, httpUrl } from "./env-schema.js";
import { isLoopbackUrl } from "./loopback.js";
import type { SecretSource } from "./secret-source.js";
import { ACCESS_TOKEN_TYPE, IDP_PRESETS, PRESETS, RFC8693_DEFAULTS, type ClientSecretMethod, type ExchangeFlavor, type IdpPreset } from "./token-exchange-presets.js";

/** How the gateway proves itself to the token endpoint. */
export type ClientAuthentication =
  /** A client secret, sent by HTTP Basic or in the body. */
  | { method: ClientSecretMethod; secret: SecretSource }
  /** RFC 7523 `private_key_jwt`: an assertion signed with this private JWK (with `kid` and `alg`). */
  | { method: "private_key_jwt"; key: SecretSource };

export interface TokenExchangeConfig {
  /** `flavor`: `rfc8693` or `entra-obo`. Default: the `idp`'s (`entra` is `entra-obo`), else `rfc8693`. */
  flavor: ExchangeFlavor;
  /** `idp`: `entra`, `okta`, `keycloak`, `auth0` or `cognito`, whose defaults apply (see token-exchange-presets.ts). */
  idp: IdpPreset | undefined;
  /**
   * `tokenEndpoint` (https; http on loopback only), or `issuer`, whose OIDC discovery document
   * (`<issuer>/.well-known/openid-configuration`) names it. Exactly one.
   */
  endpoint: { tokenEndpoint: URL } | { issuer: string };
  /** `clientId`: the gateway's client id at the provider. */
  clientId: string;
  /**
   * `clientSecret: { secretId | ssmParameter, method? }` or `privateKey: { secretId | ssmParameter }` (a private JWK):
   * exactly one, read from Secrets Manager or SSM Parameter Store (SecureString).
   */
  clientAuth: ClientAuthentication;
  /** `audience`: RFC 8693 `audience`, the target service's logical name (Keycloak: its client id). Default none. */
  audience: string | undefined;
  /** `resource`: RFC 8693 / RFC 8707 `resource`, the target service's URI. Default none. */
  resource: string | undefined;
  /** `scope`: a string or list of scopes to ask for, sent space-separated. Entra: `api://<app>/.default`. Default none. */
  scope: string | undefined;
  /** `requestedTokenType` (RFC 8693 only). Default: the idp's, else none (the provider's default, an access token). */
  requestedTokenType: string | undefined;
  /** `subjectTokenType` (RFC 8693 only): the type of the caller's token. Default `urn:ietf:params:oauth:token-type:access_token`. */
  subjectTokenType: string;
  /** `header`: where the exchanged token is sent (`Authorization` sends `Bearer <token>`). Default `Authorization`. */
  header: string;
  /** `timeoutMs`: how long the token endpoint (and discovery) may take before the request is answered 504. Default 10000. */
  timeoutMs: number;
  /**
   * `reuseMarginSeconds`: an exchanged token is reused for its caller while more than this remains of its lifetime
   * (never more than half its lifetime, so a short-lived token is still reused). Default 60.
   */
  reuseMarginSeconds: number;
}

const text = z.string().check(z.trim(), z.minLength(1, { error: "must not be empty" }));

/** https, or plain http on this machine alone: the gateway sends its client credentials there. */
const endpointUrl = httpUrl.check(
  z.refine((url) => url.protocol === "https:" || isLoopbackUrl(url), { error: "must use https (plain http is accepted on loopback addresses only)" }),
);

const secretPlace = { secretId: z.optional(text), ssmParameter: z.optional(text) };
const EXACTLY_ONE_PLACE = "needs exactly one of secretId (Secrets Manager) or ssmParameter (SSM Parameter Store)";
const onePlace = (value: { secretId?: string; ssmParameter?: string }) => (value.secretId === undefined) !== (value.ssmParameter === undefined);

const clientSecretEntry = z
  .strictObject({ ...secretPlace, method: z.optional(z.enum(["client_secret_basic", "client_secret_post"])) })
  .check(z.refine(onePlace, { error: EXACTLY_ONE_PLACE }));
const privateKeyEntry = z.strictObject(secretPlace).check(z.refine(onePlace, { error: EXACTLY_ONE_PLACE }));

export const tokenExchangeEntry = z.strictObject({
  flavor: z.optional(z.enum(["rfc8693", "entra-obo"])),
  idp: z.optional(z.enum(IDP_PRESETS)),
  tokenEndpoint: z.optional(endpointUrl),
  issuer: z.optional(endpointUrl),
  clientId: text,
  clientSecret: z.optional(clientSecretEntry),
  privateKey: z.optional(privateKeyEntry),
  audience: z.optional(text),
  resource: z.optional(text),
  scope: z.optional(z.union([text, z.array(text).check(z.minLength(1, { error: "must list at least one scope" }))])),
  requestedTokenType: z.optional(text),
  subjectTokenType: z.optional(text),
  header: z.optional(gatewayHeaderName),
  timeoutMs: z.optional(z.int().check(z.gte(100), z.lte(60_000))),
  reuseMarginSeconds: z.optional(z.int().check(z.gte(0), z.lte(3_600))),
});

export type TokenExchangeEntry = z.output<typeof tokenExchangeEntry>;
/** The entry as written in MCP_BACKENDS (JSON): what the CDK construct writes for the function. */
export type TokenExchangeInput = z.input<typeof tokenExchangeEntry>;

function secretSource(place: { secretId?: string; ssmParameter?: string }): SecretSource {
  return place.ssmParameter !== undefined ? { kind: "ssm", name: place.ssmParameter } : { kind: "secretsmanager", secretId: place.secretId as string };
}

/** Parameters Entra's on-behalf-of grant has no use for: it names the downstream API in `scope` alone. */
const NOT_ENTRA = ["audience", "resource", "requestedTokenType", "subjectTokenType"] as const;

/** The checks between fields, each problem as `[field, message]` (field relative to `tokenExchange`). */
export function tokenExchangeProblems(entry: TokenExchangeEntry): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if ((entry.tokenEndpoint === undefined) === (entry.issuer === undefined)) {
    problems.push(["", "needs exactly one of tokenEndpoint or issuer (whose OIDC discovery document names the token endpoint)"]);
  }
  if ((entry.clientSecret === undefined) === (entry.privateKey === undefined)) {
    problems.push(["", "needs exactly one of clientSecret or privateKey (how the gateway authenticates to the token endpoint)"]);
  }
  const preset = entry.idp ? PRESETS[entry.idp] : undefined;
  if (entry.flavor && preset && entry.flavor !== preset.flavor) {
    problems.push(["flavor", `is ${entry.flavor}, but idp ${entry.idp} exchanges tokens by ${preset.flavor}`]);
  }
  const flavor = entry.flavor ?? preset?.flavor ?? RFC8693_DEFAULTS.flavor;
  if (flavor === "entra-obo") {
    for (const field of NOT_ENTRA) {
      if (entry[field] !== undefined) problems.push([field, "is not a parameter of Entra's on-behalf-of grant: name the downstream API in scope (api://<app-id>/.default)"]);
    }
    if (entry.scope === undefined) problems.push(["scope", "is required by Entra's on-behalf-of grant (e.g. api://<app-id>/.default)"]);
  } else {
    for (const field of preset?.requires ?? []) {
      if (entry[field] === undefined) problems.push([field, `is required by ${entry.idp}'s token exchange`]);
    }
    if (entry.audience === undefined && entry.resource === undefined && entry.scope === undefined) {
      problems.push(["", "needs audience, resource or scope: what the exchanged token is for"]);
    }
  }
  return problems;
}

/** The configuration of an entry; meaningful once `tokenExchangeProblems` found none (it never throws, so every problem is reported). */
export function tokenExchangeFromEntry(entry: TokenExchangeEntry): TokenExchangeConfig {
  const preset = entry.idp ? PRESETS[entry.idp] : RFC8693_DEFAULTS;
  const flavor = entry.flavor ?? preset.flavor;
  return {
    flavor,
    idp: entry.idp,
    endpoint: entry.tokenEndpoint ? { tokenEndpoint: entry.tokenEndpoint } : { issuer: (entry.issuer?.href ?? "").replace(/\/$/, "") },
    clientId: entry.clientId,
    clientAuth: entry.clientSecret
      ? { method: entry.clientSecret.method ?? preset.secretMethod, secret: secretSource(entry.clientSecret) }
      : { method: "private_key_jwt", key: secretSource(entry.privateKey ?? {}) },
    audience: entry.audience,
    resource: entry.resource,
    scope: typeof entry.scope === "string" ? entry.scope : entry.scope?.join(" "),
    requestedTokenType: flavor === "rfc8693" ? (entry.requestedTokenType ?? preset.requestedTokenType) : undefined,
    subjectTokenType: entry.subjectTokenType ?? ACCESS_TOKEN_TYPE,
    header: entry.header ?? "Authorization",
    timeoutMs: entry.timeoutMs ?? 10_000,
    reuseMarginSeconds: entry.reuseMarginSeconds ?? 60,
  };
}
