/**
 * The gateway's configuration: one typed object, validated once at start.
 *
 * Every field documents the environment variable it comes from, its unit and its default. The same variables
 * configure the Lambda function and `mcp-sso-gateway serve`; `loadConfigFromEnv` names every bad variable at once.
 * Each variable's own checks are in env-schema.ts (the identity providers' in issuers.ts); this module checks the
 * variables that go together and assembles the configuration.
 */
import { ConfigError } from "../errors.js";
import { backendsFromEnv, type BackendConfig } from "./backends.js";
import type { SecretSource } from "./secret-source.js";
import { DEFAULTS, envSchema } from "./env-schema.js";
import { ISSUER_VARIABLES, issuersFromEnv, type IssuerConfig } from "./issuers.js";
import { isLoopbackUrl } from "./loopback.js";

/** Where authorization policy documents are read from. */
export type PolicySourceConfig =
  /** `POLICY_FILE`: one YAML or JSON document on disk, re-read when the cache expires. */
  | { kind: "file"; path: string }
  /** `POLICY_SSM_PATH`: every SSM parameter under this path is a document; they are merged. */
  | { kind: "ssm"; path: string };

export type { SecretSource } from "./secret-source.js";
export type { BackendConfig, BackendCredentialConfig, BackendTokenConfig } from "./backends.js";
export type { TokenExchangeConfig } from "./token-exchange.js";

/**
 * A secret the front door in front of the function (a CloudFront distribution) adds to every request it forwards, so
 * that the function's own URL cannot be used to go around it (and around its WAF).
 */
export interface EdgeSecretConfig {
  /** `EDGE_SECRET_HEADER`: the header carrying it, e.g. `X-Origin-Verify`. */
  header: string;
  /** `EDGE_SECRET_SECRET_ID` or `EDGE_SECRET_SSM_PARAMETER`: where its value is kept. */
  source: SecretSource;
  /** `EDGE_SECRET_CACHE_SECONDS`: how long the value is used before it is read again. Default 300. */
  cacheSeconds: number;
}

export interface GatewayConfig {
  /**
   * The backend MCP servers, in the order given (see backends.ts): `MCP_BACKENDS`, a JSON list of
   * `{ name, url, timeoutMs?, credential?, identityHeaders?, token? }`, or the one-server shorthand `MCP_BACKEND_URL`
   * (with `MCP_BACKEND_NAME`, default `backend`, and the one-server variables `BACKEND_CREDENTIAL_*`,
   * `BACKEND_IDENTITY_HEADERS`, `BACKEND_TOKEN_*`). `BACKEND_TIMEOUT_MS` (default 25000) is every server's default
   * timeout. Each server is served alone at `<MCP_PATH>/<name>`; with more than one, `MCP_PATH` serves them all
   * together (the aggregated endpoint), and with one, `MCP_PATH` is that server.
   */
  backends: BackendConfig[];
  /**
   * The trusted identity providers (at least one), from the single-issuer variables or JWT_ISSUERS (see issuers.ts):
   * - `JWT_ISSUER` (required): the exact `iss` claim tokens must carry;
   * - `JWT_AUDIENCE` (required): accepted audiences, comma-separated; a token passes when any one matches;
   * - `JWKS_URI`: the issuer's signing keys (https; plain http on loopback only). Default: found by OIDC discovery
   *   (`<JWT_ISSUER>/.well-known/openid-configuration`);
   * - `JWT_PRESET`: `entra`, `okta`, `keycloak`, `cognito` or `auth0`, the IdP's claim names as defaults;
   * - `ROLES_CLAIM`: the claim holding roles (a list, a string or a space-separated string; a dotted name is tried as
   *   is, then as a path). Default `roles` (or the preset's);
   * - `JWT_SCOPES_CLAIM`: `scope` or `scp` (default `scope`, or the preset's);
   * - `JWT_CLIENT_IDS`: allowed client applications (`azp`/`client_id`), comma-separated; default any;
   * - `JWT_REQUIRED_SCOPES`: scopes every token must carry (else 403 insufficient_scope);
   * - `JWT_REQUIRED_CLAIMS`: claims every token must carry (else 401);
   * - `JWT_REQUIRE_AT_JWT`: `true` to accept only tokens typed `at+jwt` (RFC 9068); default false (every preset's too).
   * - `JWT_REQUIRE_SUB`: `false` to accept tokens without a `sub` claim, for an IdP whose access tokens omit it; default
   *   true (RFC 9068 makes `sub` required in JWT access tokens), every preset's too.
   * Whatever the settings, only access tokens are accepted (see auth/token-kind.ts): no `crit` header, no ID, logout or
   * security event token.
   */
  issuers: IssuerConfig[];
  /** `POLICY_FILE` or `POLICY_SSM_PATH` (exactly one is required). */
  policySource: PolicySourceConfig;
  /** `POLICY_CACHE_SECONDS`: how long a loaded policy is used before it is read again. Default 60; 0 reads every request. */
  policyCacheSeconds: number;
  /**
   * `POLICY_DRY_RUN`: `true` puts the whole policy in dry run: every decision is logged and counted as it would be,
   * nothing is refused or filtered. For rolling out a first policy; documents can also be put in dry run one by one
   * (`dryRun: true`). Authentication is never dry: no valid token is still 401, and no policy at all still 503.
   * Default false.
   */
  policyDryRun: boolean;
  /** `MCP_PATH`: the path the gateway serves MCP on. Default `/mcp`. */
  mcpPath: string;
  /**
   * `PUBLIC_URL`: the gateway's public base URL (scheme and host, e.g. `https://mcp.example.com`), used in the RFC 9728
   * metadata and the 401 challenge. Default: taken from each request's own URL.
   */
  publicUrl: URL | undefined;
  /**
   * `AUTHORIZATION_SERVERS`: comma-separated authorization server URLs published in the RFC 9728 metadata so MCP
   * clients know where to get a token. Default: the issuers that are https URLs, or http URLs on a loopback address
   * (a local Keycloak or the demo's provider, which the gateway also fetches keys from over http); otherwise none.
   */
  authorizationServers: string[];
  /**
   * `CORS_ALLOWED_ORIGINS`: comma-separated origins (`https://app.example.com`) whose browser-based MCP clients may call
   * the gateway; `*` allows any origin. CORS is answered before authentication (preflights carry no token), and
   * exposes Mcp-Session-Id, Mcp-Protocol-Version and WWW-Authenticate. These are also the only foreign origins let in:
   * a request whose `Origin` header names another origin than these, the gateway's own (its request URL or
   * `PUBLIC_URL`), gets 403, as MCP requires of servers. Default: none (no CORS headers; same origin only).
   */
  corsAllowedOrigins: string[];
  /**
   * `ALLOWED_HOSTS`: comma-separated host names (`mcp.example.com`, or `localhost:9000` for one port only) the gateway
   * answers to; a request whose `Host` is not among them gets 403 (DNS-rebinding protection). Default: not checked,
   * except by the local server listening on a loopback address, which answers to `localhost`, `127.0.0.1` and `[::1]`
   * only. API Gateway routes only requests addressed to its own domains, so the Lambda function needs none.
   */
  allowedHosts: string[] | undefined;
  /**
   * `SCOPES_SUPPORTED`: comma-separated scopes published in the RFC 9728 metadata (`scopes_supported`), so MCP clients
   * ask the IdP for them. Default: the issuers' required scopes.
   */
  scopesSupported: string[];
  /** `MAX_BODY_BYTES`: largest request body accepted, in bytes; larger ones get 413. Default 1048576 (1 MiB). */
  maxBodyBytes: number;
  /**
   * `MAX_BACKEND_MESSAGE_BYTES`: largest message accepted from the backend, in bytes: a JSON body, or one SSE event.
   * The gateway must read a message whole to judge it; a larger JSON body is answered 502, and a stream whose event
   * grows past it ends with a final error event. Default 16777216 (16 MiB); from 65536 to 268435456.
   */
  maxBackendMessageBytes: number;
  /**
   * `SSE_KEEPALIVE_SECONDS`: while the gateway streams events to the client (a call answered as SSE, the GET stream),
   * it writes an SSE comment (`: keep-alive`), which clients ignore, whenever nothing has been written for this many
   * seconds, between events only. Front doors cut responses that stay silent (CloudFront after its origin response
   * timeout, 60 s as the stack sets it; load balancers and proxies alike), which would end a call whose tool works
   * longer without progress. A POST whose backend has sent nothing by then is answered with such a comment, its first
   * field judged when it comes. None on a buffered front door, where the client receives the body whole. Default 25;
   * 0 turns them off; at most 900 (the longest a Lambda invocation runs).
   */
  sseKeepAliveSeconds: number;
  /**
   * `SESSION_KEY_SSM_PARAMETER` or `SESSION_KEY_SECRET_ID`: the secret (at least 32 bytes) that binds each MCP session
   * id to the caller who opened it (see proxy/session-binding.ts). Every instance must share it, or a session opened
   * on one is unknown to the next: the CDK stack creates one. Default: a random key for this process, which suits a
   * single local server.
   */
  sessionKey: SecretSource | undefined;
  /**
   * `EDGE_SECRET_HEADER` with `EDGE_SECRET_SECRET_ID` or `EDGE_SECRET_SSM_PARAMETER`: every request must carry this
   * header with the secret's value, or it gets 403 before anything else is looked at (the value cannot be read: 503).
   * Set by the stack when CloudFront fronts the function URL. Default: none (no such check).
   */
  edgeSecret: EdgeSecretConfig | undefined;
}

/** A header the gateway sets from a value it keeps in AWS: the header goes with exactly one place to read it from. */
function headerAndSecretProblems(env: Record<string, string | undefined>, header: string, ssmVariable: string, secretVariable: string): string[] {
  const sources = [env[ssmVariable], env[secretVariable]].filter(Boolean).length;
  if (env[header] && sources !== 1) return [`${header} needs exactly one of ${ssmVariable} or ${secretVariable}`];
  if (!env[header] && sources > 0) return [`${header} is required when ${ssmVariable} or ${secretVariable} is set (which header carries the value?)`];
  return [];
}

/** The place a value is read from, once the variables have been checked (exactly one of the two is set). */
function secretSource(ssmParameter: string | undefined, secretId: string | undefined): SecretSource {
  return ssmParameter ? { kind: "ssm", name: ssmParameter } : { kind: "secretsmanager", secretId: secretId as string };
}

/** Checks that involve several variables; run on the raw values so they are reported with the others. */
function crossFieldProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (env.POLICY_FILE && env.POLICY_SSM_PATH) {
    problems.push("POLICY_FILE and POLICY_SSM_PATH are both set; choose one policy source");
  } else if (!env.POLICY_FILE && !env.POLICY_SSM_PATH) {
    problems.push("POLICY_FILE or POLICY_SSM_PATH is required (where the authorization policy lives)");
  }
  problems.push(...headerAndSecretProblems(env, "BACKEND_CREDENTIAL_HEADER", "BACKEND_CREDENTIAL_SSM_PARAMETER", "BACKEND_CREDENTIAL_SECRET_ID"));
  // With MCP_BACKENDS, each entry's `token` says who is sent one; the key alone is the gateway's (backends.ts).
  if (env.MCP_BACKENDS === undefined) problems.push(...headerAndSecretProblems(env, "BACKEND_TOKEN_HEADER", "BACKEND_TOKEN_KEY_SSM_PARAMETER", "BACKEND_TOKEN_KEY_SECRET_ID"));
  else if (env.BACKEND_TOKEN_KEY_SSM_PARAMETER && env.BACKEND_TOKEN_KEY_SECRET_ID) problems.push("BACKEND_TOKEN_KEY_SSM_PARAMETER and BACKEND_TOKEN_KEY_SECRET_ID are both set; choose one place for the signing key");
  problems.push(...headerAndSecretProblems(env, "EDGE_SECRET_HEADER", "EDGE_SECRET_SSM_PARAMETER", "EDGE_SECRET_SECRET_ID"));
  if (env.SESSION_KEY_SSM_PARAMETER && env.SESSION_KEY_SECRET_ID) {
    problems.push("SESSION_KEY_SSM_PARAMETER and SESSION_KEY_SECRET_ID are both set; choose one place for the session key");
  }
  if (env.BACKEND_TOKEN_HEADER && env.BACKEND_CREDENTIAL_HEADER && env.BACKEND_TOKEN_HEADER.toLowerCase() === env.BACKEND_CREDENTIAL_HEADER.toLowerCase()) {
    problems.push("BACKEND_TOKEN_HEADER and BACKEND_CREDENTIAL_HEADER name the same header; give each its own");
  }
  return problems;
}

/** An issuer a client can be sent to for a token: https, or plain http on this machine's loopback addresses. */
function isPublishableIssuer(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === "https:" || (url.protocol === "http:" && isLoopbackUrl(url));
}

/** Builds and validates the configuration from environment variables; throws ConfigError naming each bad variable. */
export function loadConfigFromEnv(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const relevant = Object.fromEntries(
    [...Object.keys(envSchema.shape), ...ISSUER_VARIABLES].map((key) => [key, env[key] === "" ? undefined : env[key]]),
  );
  const parsed = envSchema.safeParse(relevant);
  const { issuers, problems: issuerProblems } = issuersFromEnv(relevant);
  const { backends, problems: backendProblems } = parsed.success ? backendsFromEnv(parsed.data, relevant) : { backends: [], problems: [] };
  const problems = [
    ...(relevant.MCP_BACKEND_URL === undefined && relevant.MCP_BACKENDS === undefined
      ? ["MCP_BACKEND_URL or MCP_BACKENDS is required (the backend MCP server, or the list of them)"]
      : []),
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`)),
    ...issuerProblems,
    ...backendProblems,
    ...crossFieldProblems(relevant),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const policySource: PolicySourceConfig = e.POLICY_FILE
    ? { kind: "file", path: e.POLICY_FILE }
    : { kind: "ssm", path: e.POLICY_SSM_PATH as string };
  return {
    backends,
    issuers,
    policySource,
    policyCacheSeconds: e.POLICY_CACHE_SECONDS,
    policyDryRun: e.POLICY_DRY_RUN,
    mcpPath: e.MCP_PATH ?? DEFAULTS.MCP_PATH,
    publicUrl: e.PUBLIC_URL,
    authorizationServers: e.AUTHORIZATION_SERVERS ?? issuers.flatMap((i) => (isPublishableIssuer(i.issuer) ? [i.issuer] : [])),
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS ?? [],
    allowedHosts: e.ALLOWED_HOSTS?.map((host) => host.toLowerCase()),
    scopesSupported: e.SCOPES_SUPPORTED ?? [...new Set(issuers.flatMap((i) => i.requiredScopes))],
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxBackendMessageBytes: e.MAX_BACKEND_MESSAGE_BYTES,
    sseKeepAliveSeconds: e.SSE_KEEPALIVE_SECONDS,
    sessionKey: e.SESSION_KEY_SSM_PARAMETER || e.SESSION_KEY_SECRET_ID ? secretSource(e.SESSION_KEY_SSM_PARAMETER, e.SESSION_KEY_SECRET_ID) : undefined,
    edgeSecret: e.EDGE_SECRET_HEADER
      ? { header: e.EDGE_SECRET_HEADER, source: secretSource(e.EDGE_SECRET_SSM_PARAMETER, e.EDGE_SECRET_SECRET_ID), cacheSeconds: e.EDGE_SECRET_CACHE_SECONDS }
      : undefined,
  };
}
