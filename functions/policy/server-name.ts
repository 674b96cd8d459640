/**
 * The name of a backend MCP server as the gateway is configured with it, and so as policies scope grants by it
 * (`servers.<name>`, `mcp.tool.target`) and the policy CLI takes it (`--server`, a test case's `server:`).
 */

/** 1 to 63 lower-case letters, digits and hyphens: a name that reads the same in YAML keys, logs and CEL strings. */
export const SERVER_NAME = /^[a-z0-9-]{1,63}$/;

/** What a server name must be, for messages. */
export const SERVER_NAME_RULE = "a server name is 1 to 63 lower-case letters, digits and hyphens ([a-z0-9-]{1,63})";

/** Why `name` is not a server name (naming it), or undefined when it is one. */
export function serverNameProblem(name: string): string | undefined {
  return SERVER_NAME.test(name) ? undefined : `${JSON.stringify(name)} is not a server name: ${SERVER_NAME_RULE}`;
}
