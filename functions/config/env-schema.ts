/**
 * The gateway's environment variables, each checked on its own: its form, its range, its default.
 *
 * Checks that involve several variables, and the assembly of the typed `GatewayConfig`, are in gateway-config.ts;
 * the identity-provider variables are in issuers.ts. Every message completes a sentence that starts with the
 * variable's name ("BACKEND_TIMEOUT_MS must be a whole number from 1 to 900000").
 */
import * as z from "zod/mini";
import "../zod-messages.js";
import { SERVER_NAME } from "../policy/server-name.js";

export const DEFAULTS = {
  BACKEND_TIMEOUT_MS: 25_000,
  POLICY_CACHE_SECONDS: 60,
  MCP_PATH: "/mcp",
  MAX_BODY_BYTES: 1_048_576,
  MAX_BACKEND_MESSAGE_BYTES: 16 * 1_048_576,
  BACKEND_CREDENTIAL_CACHE_SECONDS: 300,
  BACKEND_TOKEN_TTL_SECONDS: 300,
  EDGE_SECRET_CACHE_SECONDS: 300,
  SSE_KEEPALIVE_SECONDS: 25,
} as const;

/** Headers the gateway sets or passes itself; a backend credential may not take their place. */
const RESERVED_HEADERS = new Set([
  "host", "content-type", "content-length", "accept", "transfer-encoding", "connection",
  "mcp-session-id", "mcp-protocol-version", "last-event-id", "mcp-method", "mcp-name",
]);

/** A value with surrounding spaces removed, which must not be empty then. */
const name = z.string().check(z.trim(), z.minLength(1));

export const httpUrl = z
  .pipe(
    z.string({ error: "is required" }).check(
      z.trim(),
      z.minLength(1, { error: "is required" }),
      z.refine((v) => URL.canParse(v), { error: "must be an absolute URL" }),
    ),
    z.transform((v) => new URL(v)),
  )
  .check(z.refine((u) => u.protocol === "http:" || u.protocol === "https:", { error: "must be an http or https URL" }));

/** A whole number within a range, `fallback` when the variable is not set. */
function integer(min: number, max: number, fallback: number) {
  const digits = z.string().check(z.trim(), z.regex(/^\d+$/, { error: `must be a whole number from ${min} to ${max}` }));
  const inRange = z.number().check(z.gte(min, { error: `must be at least ${min}` }), z.lte(max, { error: `must be at most ${max}` }));
  return z.pipe(z.optional(z.pipe(z.pipe(digits, z.transform(Number)), inRange)), z.transform((v) => v ?? fallback));
}

/** A host name or address as the Host header carries it, with or without a port (`localhost`, `[::1]:9000`). */
const hostEntry = z.string().check(
  z.regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, { error: "must list host names such as mcp.example.com or localhost:9000" }),
);

/** A comma-separated list; blank entries are dropped. */
const list = z.pipe(
  z.string({ error: "is required" }),
  z.transform((v) => v.split(",").map((s) => s.trim()).filter((s) => s.length > 0)),
);

/** A comma-separated list whose every entry passes `entry`. */
const listOf = (entry: z.ZodMiniType<string, string>) => z.pipe(list, z.array(entry));

/** A header the gateway sets itself towards the backend: a valid name, and none the gateway already manages. */
export const gatewayHeaderName = z.string().check(
  z.trim(),
  z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "must be an HTTP header name" }),
  z.refine((header) => !RESERVED_HEADERS.has(header.toLowerCase()), { error: "must not be a header the gateway manages (Host, Content-*, Mcp-*, ...)" }),
);

const origin = z.string().check(
  z.refine((o) => o === "*" || (URL.canParse(o) && new URL(o).origin === o), {
    error: "must list origins such as https://app.example.com (scheme, host, port; no path), or *",
  }),
);

/** A header carrying a caller's claim to a backend: a valid name, and none the gateway manages. */
export const identityHeaderName = z.string().check(
  z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "must be an HTTP header name" }),
  z.refine((header) => !RESERVED_HEADERS.has(header.toLowerCase()), { error: "must not name a header the gateway manages" }),
);

const identityHeader = z.string().check(
  z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+=.+$/, { error: "must be Header=claim pairs, comma-separated (X-User-Id=sub)" }),
  z.refine((pair) => !RESERVED_HEADERS.has((pair.split("=")[0] as string).toLowerCase()), { error: "must not name a header the gateway manages" }),
);

/** The variables of GatewayConfig other than the identity providers' (see gateway-config.ts for what each means). */
export const envSchema = z.object({
  /** Read by backends.ts, which also takes the list form `MCP_BACKENDS` instead. */
  MCP_BACKEND_URL: z.optional(httpUrl),
  MCP_BACKEND_NAME: z.optional(z.string().check(z.regex(SERVER_NAME, { error: "must be 1 to 63 lower-case letters, digits or -" }))),
  /** Kept as text here; backends.ts reads the list and names each bad entry. */
  MCP_BACKENDS: z.optional(z.string()),
  BACKEND_TIMEOUT_MS: integer(1, 900_000, DEFAULTS.BACKEND_TIMEOUT_MS),
  POLICY_FILE: z.optional(name),
  POLICY_SSM_PATH: z.optional(
    z.string().check(z.trim(), z.regex(/^\/[A-Za-z0-9_.\-/]*$/, { error: "must be an SSM path starting with / (letters, digits, _ . - /)" })),
  ),
  POLICY_CACHE_SECONDS: integer(0, 86_400, DEFAULTS.POLICY_CACHE_SECONDS),
  POLICY_DRY_RUN: z.pipe(
    z.optional(z.enum(["true", "false"], { error: "must be true or false" })),
    z.transform((v) => v === "true"),
  ),
  MCP_PATH: z.optional(z.string().check(z.regex(/^\/[^?#\s]*$/, { error: "must be a path starting with /" }))),
  PUBLIC_URL: z.optional(httpUrl),
  AUTHORIZATION_SERVERS: z.optional(list),
  SCOPES_SUPPORTED: z.optional(list),
  CORS_ALLOWED_ORIGINS: z.optional(listOf(origin)),
  ALLOWED_HOSTS: z.optional(listOf(hostEntry)),
  BACKEND_IDENTITY_HEADERS: z.optional(listOf(identityHeader)),
  MAX_BODY_BYTES: integer(1024, 10 * 1_048_576, DEFAULTS.MAX_BODY_BYTES),
  MAX_BACKEND_MESSAGE_BYTES: integer(65_536, 256 * 1_048_576, DEFAULTS.MAX_BACKEND_MESSAGE_BYTES),
  SSE_KEEPALIVE_SECONDS: integer(0, 900, DEFAULTS.SSE_KEEPALIVE_SECONDS),
  BACKEND_CREDENTIAL_HEADER: z.optional(gatewayHeaderName),
  BACKEND_CREDENTIAL_SSM_PARAMETER: z.optional(name),
  BACKEND_CREDENTIAL_SECRET_ID: z.optional(name),
  BACKEND_CREDENTIAL_CACHE_SECONDS: integer(0, 86_400, DEFAULTS.BACKEND_CREDENTIAL_CACHE_SECONDS),
  BACKEND_TOKEN_HEADER: z.optional(gatewayHeaderName),
  BACKEND_TOKEN_KEY_SSM_PARAMETER: z.optional(name),
  BACKEND_TOKEN_KEY_SECRET_ID: z.optional(name),
  BACKEND_TOKEN_AUDIENCE: z.optional(name),
  BACKEND_TOKEN_TTL_SECONDS: integer(10, 3_600, DEFAULTS.BACKEND_TOKEN_TTL_SECONDS),
  BACKEND_TOKEN_CLAIMS: z.optional(list),
  SESSION_KEY_SSM_PARAMETER: z.optional(name),
  SESSION_KEY_SECRET_ID: z.optional(name),
  EDGE_SECRET_HEADER: z.optional(gatewayHeaderName),
  EDGE_SECRET_SSM_PARAMETER: z.optional(name),
  EDGE_SECRET_SECRET_ID: z.optional(name),
  EDGE_SECRET_CACHE_SECONDS: integer(0, 86_400, DEFAULTS.EDGE_SECRET_CACHE_SECONDS),
});

/** The variables, checked: numbers as numbers, lists as arrays, defaults applied. */
export type Env = z.output<typeof envSchema>;
