/**
 * Environment variables named like the gateway's settings that are none of them (`POLICY_CACHE_SECOND`,
 * `JWT_AUDIANCE`): loadConfigFromEnv reads only the names it knows, so a misspelt optional setting would otherwise
 * stay at its default without a word. `serve` warns about each, with the setting that was probably meant.
 */
import { envSchema } from "./env-schema.js";
import { ISSUER_VARIABLES } from "./issuers.js";
import { nearestName } from "./nearest-name.js";

/** Every variable loadConfigFromEnv reads. */
const SETTINGS: readonly string[] = [...Object.keys(envSchema.shape), ...ISSUER_VARIABLES];

/**
 * The beginnings of the gateway's names. Other variables (PATH, AWS_REGION, another tool's MCP_ settings) are none
 * of its business, so only these families are looked at.
 */
const FAMILIES = /^(JWT_|JWKS_|POLICY_|BACKEND_|SESSION_KEY|EDGE_SECRET|CORS_|MAX_BODY|MAX_BACKEND|ALLOWED_HOST|AUTHORIZATION_SERVER|SCOPES_SUPPORTED|PUBLIC_URL|ROLES_CLAIM|MCP_BACKEND|MCP_PATH)/;

export interface UnknownSetting {
  name: string;
  /** The setting it is closest to (at most 3 edits away), if any. */
  suggestion: string | undefined;
}

/** The variables of `env` in the gateway's families that it does not read, in the order given. */
export function unknownSettings(env: Record<string, string | undefined>): UnknownSetting[] {
  return Object.keys(env)
    .filter((name) => FAMILIES.test(name) && !SETTINGS.includes(name))
    .map((name) => ({ name, suggestion: nearestName(name, SETTINGS, 3) }));
}
