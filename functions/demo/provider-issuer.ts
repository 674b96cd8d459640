/**
 * The demo OpenID Provider's issuer on a port: `http://localhost:<port>`, the `iss` of its tokens and the address MCP
 * clients are sent to for signing in (it listens on 127.0.0.1). Kept apart from the provider itself, so that `token`
 * can find the provider without loading it.
 */
export function providerIssuer(port: number): string {
  return `http://localhost:${port}`;
}
