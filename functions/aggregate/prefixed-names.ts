/**
 * Names on the aggregated endpoint: each server's tools and prompts are shown as `<server>_<name>`, as agentgateway
 * does by default. Server names have no `_` (config/backends.ts), so the first `_` of a shown name always ends the
 * server's name: `a_b_c` is server `a`'s `b_c`, and no server `a_b` can exist to claim it. A name that does not start
 * with a configured server's name and `_` belongs to no server.
 */

export const SEPARATOR = "_";

export function prefixedName(server: string, name: string): string {
  return `${server}${SEPARATOR}${name}`;
}

/** The server and the server's own name of a shown name, or undefined when no configured server owns it. */
export function splitPrefixedName(shown: string, servers: ReadonlySet<string>): { server: string; name: string } | undefined {
  const at = shown.indexOf(SEPARATOR);
  if (at <= 0) return undefined;
  const server = shown.slice(0, at);
  const name = shown.slice(at + 1);
  return servers.has(server) && name.length > 0 ? { server, name } : undefined;
}
