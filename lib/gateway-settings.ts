/**
 * The deployment's settings, from cdk.json context or `-c key=value` flags, validated once at synth.
 *
 * The runtime rules are not written twice: the settings are turned into the Lambda function's environment and
 * checked by the same `loadConfigFromEnv` the function runs at cold start, with messages renamed to the context keys
 * a deployer types. Rules that only matter in AWS (no loopback addresses) are added here.
 */
import { loadConfigFromEnv } from "../functions/config/gateway-config.js";
import { ConfigError } from "../functions/errors.js";
import { loopbackProblems } from "./backend-entries.js";
import { backendSettingsFromContext, type BackendSetting } from "./backends-context.js";

/** How clients reach the function. */
export type FrontDoor =
  /**
   * The function's own URL in RESPONSE_STREAM mode (default): the 401 challenge reaches clients as written, SSE is
   * streamed as produced, requests last up to 15 minutes; with a custom domain, CloudFront in front.
   */
  | "functionUrl"
  /** HTTP API, `$default` stage (so `/mcp` and `/.well-known/...` sit at the root); 30 s per request; buffered. */
  | "httpApi"
  /** REST API with Lambda response streaming: SSE streamed as produced, requests up to 15 minutes. */
  | "restStreaming";

export const FRONT_DOORS: readonly FrontDoor[] = ["functionUrl", "httpApi", "restStreaming"];

export interface GatewaySettings {
  /** Context `issuer` (required): the exact `iss` tokens must carry. */
  issuer: string;
  /** Context `audience` (required): accepted `aud` values, comma-separated. */
  audience: string[];
  /**
   * Context `jwksUri`: the issuer's JWKS (https). Default: found at cold start by OIDC discovery
   * (`<issuer>/.well-known/openid-configuration`, its `jwks_uri`).
   */
  jwksUri: string | undefined;
  /**
   * Context `backendUrl`: the backend MCP server's Streamable HTTP endpoint, reachable from the function. Required
   * unless `backends` lists several servers (never both).
   */
  backendUrl?: string;
  /**
   * Context `backends`: several backend MCP servers, as a JSON list of `{ name, url, timeoutMs?, credential?: { header,
   * secretArn | ssmParameter }, identityHeaders?: { <header>: <claim> }, tokenExchange?: { ..., clientSecret |
   * privateKey: { secretArn | ssmParameter } } }` (then leave `backendUrl` out). Each is
   * served at `<McpEndpointUrl>/<name>` (the output McpServerEndpoints); a credential's secret (complete ARN) or
   * SecureString parameter is readable by the function alone. A server's `token` needs the signing key, which only
   * the construct takes (`backendToken.key`).
   */
  backends?: BackendSetting[];
  /** Context `policyPath`: the SSM path holding the policy documents. Default `/mcp-sso-gateway/<stack name>/policies`. */
  policyPath: string;
  /** Context `rolesClaim`: the claim holding the caller's roles. Default `roles`. */
  rolesClaim: string | undefined;
  /** Context `frontDoor`: `functionUrl` (default), `httpApi` or `restStreaming` (docs/aws.md compares them). */
  frontDoor: FrontDoor;
  /** Context `preset`: `entra`, `okta`, `keycloak`, `cognito` or `auth0` (the IdP's claim names as defaults). */
  preset?: string;
  /** Context `requiredScopes`: scopes every token must carry (comma-separated); others get 403 insufficient_scope. */
  requiredScopes?: string;
  /** Context `clientIds`: allowed client applications (`azp`/`client_id`), comma-separated. */
  clientIds?: string;
  /**
   * Context `requireAtJwt`: `true` to accept only tokens whose `typ` header is `at+jwt` (RFC 9068), for an issuer that
   * types every access token so. Default `false` (every preset's too).
   */
  requireAtJwt?: string;
  /**
   * Context `requireSub`: `false` to accept tokens without a `sub` claim, for an issuer whose access tokens omit it
   * (RFC 9068 requires it). Default `true` (every preset's too).
   */
  requireSub?: string;
  /**
   * Context `issuers`: several identity providers, as a JSON list of `{ issuer, audience, jwksUri?, preset?,
   * rolesClaim?, scopesClaim?, clientIds?, requiredScopes?, requiredClaims?, requireAtJwt?, requireSub? }` (then leave `issuer` and
   * `audience` out).
   */
  issuers?: string;
  /** Context `corsAllowedOrigins`: origins of browser-based MCP clients allowed to call the gateway, comma-separated. */
  corsAllowedOrigins?: string;
  /**
   * Context `allowedHosts`: host names the function answers to, comma-separated (others get 403). The front doors
   * route only requests for their own host names, and behind CloudFront the function sees the front door's host (the
   * function URL's or the execute-api domain), not the custom domain; the edge secret already closes those to direct
   * calls. So it is rarely needed here.
   */
  allowedHosts?: string;
}

/** Context key → the environment variable it becomes, for renaming runtime messages. */
const CONTEXT_FOR_ENV: Readonly<Record<string, string>> = {
  JWT_ISSUERS: "issuers",
  JWT_PRESET: "preset",
  JWT_REQUIRED_SCOPES: "requiredScopes",
  JWT_CLIENT_IDS: "clientIds",
  JWT_REQUIRE_AT_JWT: "requireAtJwt",
  JWT_REQUIRE_SUB: "requireSub",
  CORS_ALLOWED_ORIGINS: "corsAllowedOrigins",
  ALLOWED_HOSTS: "allowedHosts",
  JWT_ISSUER: "issuer",
  JWT_AUDIENCE: "audience",
  JWKS_URI: "jwksUri",
  MCP_BACKEND_URL: "backendUrl",
  MCP_BACKENDS: "backends",
  POLICY_SSM_PATH: "policyPath",
  ROLES_CLAIM: "rolesClaim",
};

/**
 * Variables that only construct props set → those props, for renaming runtime messages (several variables may be one
 * prop: a message naming both names it once).
 */
const PROP_FOR_ENV: Readonly<Record<string, string>> = {
  BACKEND_CREDENTIAL_HEADER: "backendCredential",
  BACKEND_CREDENTIAL_SECRET_ID: "backendCredential",
  BACKEND_CREDENTIAL_SSM_PARAMETER: "backendCredential",
  BACKEND_TOKEN_HEADER: "backendToken.header",
  BACKEND_TOKEN_CLAIMS: "backendToken.claims",
  BACKEND_TOKEN_KEY_SECRET_ID: "backendToken.key",
  BACKEND_TOKEN_KEY_SSM_PARAMETER: "backendToken.key",
};

/** The context keys the settings are read from (`settingsFromContext`). */
export const SETTING_KEYS = [
  "issuer",
  "audience",
  "jwksUri",
  "backendUrl",
  "backends",
  "policyPath",
  "rolesClaim",
  "frontDoor",
  "preset",
  "requiredScopes",
  "clientIds",
  "requireAtJwt",
  "requireSub",
  "issuers",
  "corsAllowedOrigins",
  "allowedHosts",
] as const satisfies ReadonlyArray<keyof GatewaySettings>;

function renameToContextKeys(problem: string): string {
  return problem
    .replace(/\b[A-Z][A-Z_]+(?=\b|\[)/g, (name) => {
      const renamed = CONTEXT_FOR_ENV[name] ?? PROP_FOR_ENV[name];
      return renamed ? `'${renamed}'` : name;
    })
    .replace(/('[^']+') or \1/g, "$1");
}

export function defaultPolicyPath(stackName: string): string {
  return `/mcp-sso-gateway/${stackName.replace(/[^A-Za-z0-9_.-]/g, "-")}/policies`;
}

/**
 * The function's environment for these settings (the variables `loadConfigFromEnv` reads). The `backends` list is not
 * among them: the construct writes MCP_BACKENDS once its credentials are secrets and parameters (backends.ts).
 */
export function functionEnvironment(settings: SingleServerSettings): Record<string, string> {
  return {
    ...(settings.backendUrl ? { MCP_BACKEND_URL: settings.backendUrl } : {}),
    ...(settings.issuer ? { JWT_ISSUER: settings.issuer } : {}),
    ...(settings.audience.length > 0 ? { JWT_AUDIENCE: settings.audience.join(",") } : {}),
    ...(settings.jwksUri ? { JWKS_URI: settings.jwksUri } : {}),
    POLICY_SSM_PATH: settings.policyPath,
    ...(settings.rolesClaim ? { ROLES_CLAIM: settings.rolesClaim } : {}),
    ...(settings.preset ? { JWT_PRESET: settings.preset } : {}),
    ...(settings.requiredScopes ? { JWT_REQUIRED_SCOPES: settings.requiredScopes } : {}),
    ...(settings.clientIds ? { JWT_CLIENT_IDS: settings.clientIds } : {}),
    ...(settings.requireAtJwt ? { JWT_REQUIRE_AT_JWT: settings.requireAtJwt } : {}),
    ...(settings.requireSub ? { JWT_REQUIRE_SUB: settings.requireSub } : {}),
    ...(settings.issuers ? { JWT_ISSUERS: settings.issuers } : {}),
    ...(settings.corsAllowedOrigins ? { CORS_ALLOWED_ORIGINS: settings.corsAllowedOrigins } : {}),
    ...(settings.allowedHosts ? { ALLOWED_HOSTS: settings.allowedHosts } : {}),
  };
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === "" ? undefined : s;
}

/**
 * Reads and validates the settings; throws ConfigError naming every bad context key at once.
 * @param context reads one context value (`app.node.tryGetContext`).
 */
export function settingsFromContext(context: (key: string) => unknown, stackName: string): GatewaySettings {
  const frontDoor = text(context("frontDoor")) ?? "functionUrl";
  // A list from cdk.json is read as it is; String() would make "[object Object]" of it.
  const backendsValue = typeof context("backends") === "object" ? context("backends") : text(context("backends"));
  const backends = backendsValue === undefined || backendsValue === null ? undefined : backendSettingsFromContext(backendsValue);
  const settings: GatewaySettings = {
    issuer: text(context("issuer")) ?? "",
    audience: (text(context("audience")) ?? "").split(",").map((a) => a.trim()).filter((a) => a.length > 0),
    jwksUri: text(context("jwksUri")),
    backendUrl: text(context("backendUrl")),
    backends: backends?.settings,
    policyPath: text(context("policyPath")) ?? defaultPolicyPath(stackName),
    rolesClaim: text(context("rolesClaim")),
    frontDoor: frontDoor as FrontDoor,
    preset: text(context("preset")),
    requiredScopes: text(context("requiredScopes")),
    clientIds: text(context("clientIds")),
    requireAtJwt: text(context("requireAtJwt")),
    requireSub: text(context("requireSub")),
    issuers: text(context("issuers")),
    corsAllowedOrigins: text(context("corsAllowedOrigins")),
    allowedHosts: text(context("allowedHosts")),
  };
  validateSettings(settings, backends);
  return settings;
}

/** The settings but the `backends` list, whose form differs between context and the construct (backends.ts). */
export type SingleServerSettings = Omit<GatewaySettings, "backends">;

/** What the backends add to the settings: their variables, and what is wrong with them that the function cannot see. */
export interface BackendCheck {
  /** The variables the backends give the function: MCP_BACKENDS, or the one server's credential and token. */
  environment: Readonly<Record<string, string>>;
  /** Problems only the stack can see (a loopback server, a key nobody uses, a context-only field), each named. */
  problems: readonly string[];
}

/** Throws ConfigError naming each bad setting (as the context keys `-c key=value` a deployer types). */
export function validateSettings(settings: SingleServerSettings, backend: BackendCheck = { environment: {}, problems: [] }): void {
  const problems: string[] = [];
  if (!FRONT_DOORS.includes(settings.frontDoor)) {
    problems.push(`'frontDoor' must be one of ${FRONT_DOORS.join(", ")}, not ${JSON.stringify(settings.frontDoor)}`);
  }
  try {
    loadConfigFromEnv({ ...functionEnvironment(settings), ...backend.environment });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems.map(renameToContextKeys));
  }
  problems.push(...backend.problems);
  problems.push(...loopbackProblems("'jwksUri'", settings.jwksUri), ...loopbackProblems("'backendUrl'", settings.backendUrl));
  if (problems.length > 0) {
    // Two variables of one prop (a credential's header and its secret) may say the same thing of it.
    throw new ConfigError([...new Set(problems), "(settings come from cdk.json context or -c key=value flags)"]);
  }
}
