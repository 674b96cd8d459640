/**
 * The caller `policy explain` and `policy test` judge: claims from a JSON object or from a token decoded WITHOUT
 * verification (these are offline admin tools: the question is "what would the policy decide for these claims",
 * not "is this token genuine"), turned into an Identity exactly as the gateway does after verifying a token.
 */
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { decodeJwt } from "jose";
import { identityFromClaims, type Identity } from "../../auth/identity.js";
import { serverNameProblem } from "../../policy/server-name.js";
import type { ItemKind, PolicyItem } from "../../policy/types.js";
import { UsageError } from "../usage-error.js";

/** The gateway's default roles claim (ROLES_CLAIM). */
export const DEFAULT_ROLES_CLAIM = "roles";

/** A JSON object: not null, not a list. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses an option's JSON value that must be an object (`--claims`, `--args`); anything else is a usage error. */
export function parseJsonObject(raw: string, option: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new UsageError(`${option} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw new UsageError(`${option} must be a JSON object, such as '{"sub": "jsmith", "roles": ["admin"]}'`);
  return parsed;
}

/** The claims of a JWT, read without checking its signature, issuer, audience or expiry. */
export function claimsFromToken(token: string): Record<string, unknown> {
  try {
    return decodeJwt(token.trim());
  } catch (err) {
    throw new UsageError(`--token is not a JWT: ${(err as Error).message}`);
  }
}

export function identityFrom(claims: Record<string, unknown>, rolesClaim: string): Identity {
  // The claims come from YAML/JSON (or a decoded token), so they are JSON values: the shape JwtPayload describes.
  return identityFromClaims(claims as JwtPayload, rolesClaim);
}

/** `sub=jsmith roles=[admin, employee]`, for output lines. */
export function describeIdentity(identity: Identity): string {
  return `sub=${identity.subject ?? "(none)"} roles=[${identity.roles.join(", ")}]`;
}

/**
 * A server name given on the command line or in a test file (`where` names it, e.g. `--server`), checked as the
 * gateway checks its servers' names: a name it could never have would only ever match nothing.
 */
export function serverName(name: string, where: string): string {
  const problem = serverNameProblem(name);
  if (problem) throw new UsageError(`${where}: ${problem}`);
  return name;
}

/**
 * The item to judge. With `args` a tool call is judged on those arguments; without, it is judged as listing (could
 * some arguments satisfy the rules), so the property is left out rather than set to undefined. `server`: the server
 * it belongs to (PolicyItem.target); without one the item is of no server, which no `servers.<name>` grant matches.
 */
export function policyItem(kind: ItemKind, name: string, args?: Record<string, unknown>, server?: string): PolicyItem {
  return { kind, name, ...(server === undefined ? {} : { target: server }), ...(args === undefined ? {} : { arguments: args }) };
}

/**
 * A resource template, by its uriTemplate: judged as written, as `resources/templates/list` and `completion/complete`
 * judge it (PolicyItem.template), not under the readings a backend may make of a URI. `server` as for policyItem.
 */
export function resourceTemplateItem(uriTemplate: string, server?: string): PolicyItem {
  return { kind: "resource", name: uriTemplate, ...(server === undefined ? {} : { target: server }), template: true };
}

/**
 * `tool echo (listing)`, `tool transfer with arguments {"amount":50}`, `resource docs://x`, `resource template
 * docs://{id}`; with a server, after the name: `tool search on server github (listing)`.
 */
export function describeItem(item: PolicyItem): string {
  const named = `${item.name}${item.target === undefined ? "" : ` on server ${item.target}`}`;
  if (item.template) return `resource template ${named}`;
  if (item.kind !== "tool") return `${item.kind} ${named}`;
  return item.arguments === undefined ? `tool ${named} (listing)` : `tool ${named} with arguments ${JSON.stringify(item.arguments)}`;
}
