/**
 * The backend MCP servers the gateway serves: `MCP_BACKENDS` (a JSON list, one entry per server) or the one-server
 * shorthand `MCP_BACKEND_URL`, checked with messages that name the entry and its field.
 *
 * ```json
 * [
 *   { "name": "github", "url": "https://github-mcp.internal/mcp",
 *     "credential": { "header": "X-Api-Key", "secretId": "github-mcp-key" },
 *     "identityHeaders": { "X-User-Id": "sub" } },
 *   { "name": "jira", "url": "https://jira-mcp.internal/mcp", "timeoutMs": 10000,
 *     "token": { "header": "Authorization", "claims": ["sub", "email"] } },
 *   { "name": "sharepoint", "url": "https://sharepoint-mcp.internal/mcp",
 *     "tokenExchange": { "idp": "entra", "issuer": "https://login.microsoftonline.com/<tenant>/v2.0",
 *       "clientId": "<gateway-app-id>", "clientSecret": { "secretId": "gateway-entra-secret" },
 *       "scope": "api://<sharepoint-mcp-app-id>/.default" } }
 * ]
 * ```
 *
 * A server's name is its path (`/mcp/<name>`), its prefix on the aggregated endpoint (`<name>_<tool>`) and what
 * policies call `mcp.tool.target`. Names are `[a-z0-9-]`: no `_`, so the first `_` of a prefixed name always ends
 * the server's name, whatever the tool is called.
 */
import * as z from "zod/mini";
import "../zod-messages.js";
import type { Env } from "./env-schema.js";
import { gatewayHeaderName, httpUrl, identityHeaderName } from "./env-schema.js";
import type { SecretSource } from "./secret-source.js";
import { SERVER_NAME } from "../policy/server-name.js";
import { tokenExchangeEntry, tokenExchangeFromEntry, tokenExchangeProblems, type TokenExchangeConfig } from "./token-exchange.js";

const SERVER_NAME_RULE = "must be 1 to 63 lower-case letters, digits or - (no _: it separates the server from the tool on the aggregated endpoint)";

/** The shorthand's server name when `MCP_BACKEND_NAME` is not set. */
export const DEFAULT_SERVER_NAME = "backend";

export interface BackendCredentialConfig {
  /** The header sent to the backend, e.g. `Authorization` or `X-Api-Key`. */
  header: string;
  source: SecretSource;
  /** How long the value is used before it is read again, in seconds. Default `BACKEND_CREDENTIAL_CACHE_SECONDS` (300). */
  cacheSeconds: number;
}

export interface BackendTokenConfig {
  /** The header carrying the gateway's token (`Authorization` sends `Bearer <token>`). */
  header: string;
  /**
   * `BACKEND_TOKEN_KEY_SSM_PARAMETER` or `BACKEND_TOKEN_KEY_SECRET_ID`: the private signing key, a JWK (JSON) with
   * `kid` and `alg` (ES256 recommended: fast to sign); one key for every server. Every instance signs with the same
   * key, so the published JWKS verifies any of them.
   */
  key: SecretSource;
  /** The token's `aud`. Default: the server URL's origin. */
  audience: string;
  /** The token's lifetime in seconds. Default 300. */
  ttlSeconds: number;
  /** Caller claims copied into the token. Default `sub`. */
  claims: string[];
}

export interface BackendConfig {
  /** `name` (or `MCP_BACKEND_NAME`, default `backend`): `[a-z0-9-]{1,63}`, unique among the servers. */
  name: string;
  /** `url` (or `MCP_BACKEND_URL`): the server's Streamable HTTP endpoint, e.g. `http://localhost:8000/mcp`. */
  url: URL;
  /**
   * `timeoutMs` (default `BACKEND_TIMEOUT_MS`, 25000): milliseconds to wait for the server's response headers (and
   * for a JSON body) before answering 504. Streamed (SSE) bodies are not cut.
   */
  timeoutMs: number;
  /**
   * `credential: { header, secretId | ssmParameter, cacheSeconds? }` (or `BACKEND_CREDENTIAL_*`): the gateway's own
   * credential for this server, sent on every request to it; the caller's token is never forwarded. Default: none.
   */
  credential: BackendCredentialConfig | undefined;
  /**
   * `identityHeaders: { "X-User-Id": "sub", ... }` (or `BACKEND_IDENTITY_HEADERS=X-User-Id=sub,...`): claims sent to
   * this server as request headers. Lists are joined with commas; values outside printable ASCII are percent-encoded.
   * Default: none.
   */
  identityHeaders: Array<{ header: string; claim: string }>;
  /**
   * `token: { header, audience?, ttlSeconds?, claims? }` (or `BACKEND_TOKEN_*`): a short-lived token the gateway
   * mints and signs for each request to this server, naming the verified caller; its public key is published at
   * `/.well-known/jwks.json`, its issuer is the gateway's public URL. Default: none.
   */
  token: BackendTokenConfig | undefined;
  /**
   * `tokenExchange: { idp?, flavor?, tokenEndpoint | issuer, clientId, clientSecret | privateKey, audience?, resource?,
   * scope?, header?, ... }` (MCP_BACKENDS only; see token-exchange.ts): the caller's token is exchanged at the identity
   * provider for one issued to the caller for this server (RFC 8693, or Entra ID on-behalf-of), sent in `header`.
   * Default: none.
   */
  tokenExchange: TokenExchangeConfig | undefined;
}

/** The one-server variables, which a `MCP_BACKENDS` entry carries itself instead. */
export const ONE_SERVER_VARIABLES = [
  "MCP_BACKEND_NAME",
  "BACKEND_CREDENTIAL_HEADER",
  "BACKEND_CREDENTIAL_SSM_PARAMETER",
  "BACKEND_CREDENTIAL_SECRET_ID",
  "BACKEND_IDENTITY_HEADERS",
  "BACKEND_TOKEN_HEADER",
  "BACKEND_TOKEN_AUDIENCE",
  "BACKEND_TOKEN_CLAIMS",
] as const;

const text = z.string().check(z.trim(), z.minLength(1, { error: "must not be empty" }));

const credentialEntry = z
  .strictObject({
    header: gatewayHeaderName,
    secretId: z.optional(text),
    ssmParameter: z.optional(text),
    cacheSeconds: z.optional(z.int().check(z.gte(0), z.lte(86_400))),
  })
  .check(
    z.refine((c) => (c.secretId === undefined) !== (c.ssmParameter === undefined), {
      error: "needs exactly one of secretId (Secrets Manager) or ssmParameter (SSM Parameter Store)",
    }),
  );

const tokenEntry = z.strictObject({
  header: gatewayHeaderName,
  audience: z.optional(text),
  ttlSeconds: z.optional(z.int().check(z.gte(10), z.lte(3_600))),
  claims: z.optional(z.array(text).check(z.minLength(1))),
});

const serverEntry = z.strictObject({
  name: z.string({ error: "is required" }).check(z.regex(SERVER_NAME, { error: SERVER_NAME_RULE })),
  url: httpUrl,
  timeoutMs: z.optional(z.int().check(z.gte(1), z.lte(900_000))),
  credential: z.optional(credentialEntry),
  // Keys checked one by one, so the message names the header and says what is wrong with it.
  identityHeaders: z.optional(
    z.record(z.string(), text).check(
      z.superRefine((record, ctx) => {
        for (const header of Object.keys(record)) {
          const checked = identityHeaderName.safeParse(header);
          if (!checked.success) ctx.addIssue({ code: "custom", path: [header], message: checked.error.issues[0]?.message ?? "is not a header name" });
        }
      }),
    ),
  ),
  token: z.optional(tokenEntry),
  tokenExchange: z.optional(tokenExchangeEntry),
});

type ServerEntry = z.output<typeof serverEntry>;

/** The signing key of gateway-minted tokens, when configured (one for every server). */
function tokenKey(env: Env): SecretSource | undefined {
  if (env.BACKEND_TOKEN_KEY_SSM_PARAMETER) return { kind: "ssm", name: env.BACKEND_TOKEN_KEY_SSM_PARAMETER };
  if (env.BACKEND_TOKEN_KEY_SECRET_ID) return { kind: "secretsmanager", secretId: env.BACKEND_TOKEN_KEY_SECRET_ID };
  return undefined;
}

/** The name an entry is spoken of by in messages: its index, and its name when it has a readable one. */
function entryLabel(raw: unknown, index: number): string {
  const name = typeof raw === "object" && raw !== null ? (raw as { name?: unknown }).name : undefined;
  return `MCP_BACKENDS[${index}]${typeof name === "string" && name.length > 0 ? ` (${JSON.stringify(name)})` : ""}`;
}

function fromEntry(entry: ServerEntry, env: Env, key: SecretSource | undefined): BackendConfig {
  const { credential, token, tokenExchange } = entry;
  return {
    name: entry.name,
    url: entry.url,
    timeoutMs: entry.timeoutMs ?? env.BACKEND_TIMEOUT_MS,
    credential: credential && {
      header: credential.header,
      source: credential.ssmParameter ? { kind: "ssm", name: credential.ssmParameter } : { kind: "secretsmanager", secretId: credential.secretId as string },
      cacheSeconds: credential.cacheSeconds ?? env.BACKEND_CREDENTIAL_CACHE_SECONDS,
    },
    identityHeaders: Object.entries(entry.identityHeaders ?? {}).map(([header, claim]) => ({ header, claim })),
    token: token && key && {
      header: token.header,
      key,
      audience: token.audience ?? entry.url.origin,
      ttlSeconds: token.ttlSeconds ?? env.BACKEND_TOKEN_TTL_SECONDS,
      claims: token.claims ?? ["sub"],
    },
    tokenExchange: tokenExchange && tokenExchangeFromEntry(tokenExchange),
  };
}

/** Problems of an entry's `tokenExchange` that no field alone shows: its own, and a header another option sends. */
function exchangeProblems(entry: ServerEntry, label: string): string[] {
  const exchange = entry.tokenExchange;
  if (!exchange) return [];
  const problems = tokenExchangeProblems(exchange).map(([field, message]) => `${label}.tokenExchange${field ? `.${field}` : ""} ${message}`);
  const header = (exchange.header ?? "Authorization").toLowerCase();
  for (const [option, other] of [["credential", entry.credential?.header], ["token", entry.token?.header]] as const) {
    if (other?.toLowerCase() === header) problems.push(`${label}.tokenExchange.header is also ${option}.header (${other}); give each its own header`);
  }
  return problems;
}

/** Reads `MCP_BACKENDS`; problems name the entry and the field. */
function serversFromList(raw: string, env: Env, rawEnv: Record<string, string | undefined>): { backends: BackendConfig[]; problems: string[] } {
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch (err) {
    return { backends: [], problems: [`MCP_BACKENDS is not valid JSON: ${(err as Error).message}`] };
  }
  if (!Array.isArray(list) || list.length === 0) return { backends: [], problems: ["MCP_BACKENDS must be a non-empty JSON list of { name, url, ... } entries"] };
  const problems: string[] = ONE_SERVER_VARIABLES.filter((variable) => rawEnv[variable] !== undefined).map(
    (variable) => `${variable} applies to MCP_BACKEND_URL alone; with MCP_BACKENDS, give each server's setting in its entry`,
  );
  if (rawEnv.MCP_BACKEND_URL !== undefined) problems.push("MCP_BACKEND_URL and MCP_BACKENDS are both set; choose one (MCP_BACKEND_URL is the one-server shorthand)");
  const key = tokenKey(env);
  const backends: BackendConfig[] = [];
  const seen = new Map<string, number>();
  list.forEach((item, index) => {
    const label = entryLabel(item, index);
    const parsed = serverEntry.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${label}${issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")} ${issue.message}`);
      return;
    }
    const entry = parsed.data;
    const earlier = seen.get(entry.name);
    if (earlier !== undefined) problems.push(`${label}.name is already the name of MCP_BACKENDS[${earlier}]; each server needs its own name`);
    seen.set(entry.name, index);
    problems.push(...exchangeProblems(entry, label));
    if (entry.token && !key) problems.push(`${label}.token needs the gateway's signing key: set BACKEND_TOKEN_KEY_SSM_PARAMETER or BACKEND_TOKEN_KEY_SECRET_ID`);
    backends.push(fromEntry(entry, env, key));
  });
  return { backends, problems };
}

/** The one server of `MCP_BACKEND_URL` and the one-server variables (already checked by env-schema.ts). */
function serverFromShorthand(env: Env): BackendConfig {
  const url = env.MCP_BACKEND_URL as URL;
  const key = tokenKey(env);
  return {
    name: env.MCP_BACKEND_NAME ?? DEFAULT_SERVER_NAME,
    url,
    timeoutMs: env.BACKEND_TIMEOUT_MS,
    credential: env.BACKEND_CREDENTIAL_HEADER
      ? {
          header: env.BACKEND_CREDENTIAL_HEADER,
          source: env.BACKEND_CREDENTIAL_SSM_PARAMETER
            ? { kind: "ssm", name: env.BACKEND_CREDENTIAL_SSM_PARAMETER }
            : { kind: "secretsmanager", secretId: env.BACKEND_CREDENTIAL_SECRET_ID as string },
          cacheSeconds: env.BACKEND_CREDENTIAL_CACHE_SECONDS,
        }
      : undefined,
    identityHeaders: (env.BACKEND_IDENTITY_HEADERS ?? []).map((pair) => {
      const at = pair.indexOf("=");
      return { header: pair.slice(0, at), claim: pair.slice(at + 1).trim() };
    }),
    token:
      env.BACKEND_TOKEN_HEADER && key
        ? {
            header: env.BACKEND_TOKEN_HEADER,
            key,
            audience: env.BACKEND_TOKEN_AUDIENCE ?? url.origin,
            ttlSeconds: env.BACKEND_TOKEN_TTL_SECONDS,
            claims: env.BACKEND_TOKEN_CLAIMS ?? ["sub"],
          }
        : undefined,
    tokenExchange: undefined,
  };
}

/**
 * The servers, from `MCP_BACKENDS` or the shorthand. `env` is the checked variables, `rawEnv` the values as set (to
 * tell which one-server variables were given at all).
 */
export function backendsFromEnv(env: Env, rawEnv: Record<string, string | undefined>): { backends: BackendConfig[]; problems: string[] } {
  if (rawEnv.MCP_BACKENDS !== undefined) return serversFromList(rawEnv.MCP_BACKENDS, env, rawEnv);
  // Neither set is reported with the other missing variables (gateway-config.ts).
  if (env.MCP_BACKEND_URL === undefined) return { backends: [], problems: [] };
  return { backends: [serverFromShorthand(env)], problems: [] };
}
