/**
 * A real MCP SDK server (stateless Streamable HTTP) that accepts only bearer tokens the identity provider issued for
 * its own audience, verified against the provider's JWKS, as a server that trusts the provider and not the gateway
 * would. Its `whoami` tool runs as the subject the token names and records who that was; every request's
 * Authorization header is kept, so a test can tell which tokens reached the server at all.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";
import { serveFetch } from "../../functions/adapters/node-server.js";

export interface RanAs {
  sub: string | undefined;
  aud: JWTPayload["aud"];
  scope: unknown;
  /** The token it ran with, to compare with the caller's. */
  token: string;
}

export interface TokenVerifyingBackend {
  url: string;
  /** The Authorization header of every request, as received (null when absent). */
  authorizations: Array<string | null>;
  /** Requests refused because their token did not verify. */
  refused: number;
  /** Every `whoami` call, as the subject it ran for. */
  ranAs: RanAs[];
  close(): Promise<void>;
}

export async function startTokenVerifyingBackend(options: { issuer: string; jwksUri: string; audience: string }): Promise<TokenVerifyingBackend> {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri));
  const authorizations: Array<string | null> = [];
  const ranAs: RanAs[] = [];
  const counts = { refused: 0 };
  const server = await serveFetch(
    async (request) => {
      const authorization = request.headers.get("authorization");
      authorizations.push(authorization);
      const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1] ?? "";
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, jwks, { issuer: options.issuer, audience: options.audience }));
      } catch {
        counts.refused++;
        return new Response(null, { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
      }
      const mcp = new McpServer({ name: "token-verifying-backend", version: "1.0.0" });
      mcp.registerTool("whoami", { description: "Says who the call ran as" }, async () => {
        ranAs.push({ sub: claims.sub, aud: claims.aud, scope: claims.scope, token });
        return { content: [{ type: "text" as const, text: JSON.stringify({ sub: claims.sub, aud: claims.aud }) }] };
      });
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await mcp.connect(transport);
      return transport.handleRequest(request, { authInfo: { token, clientId: String(claims.client_id ?? ""), scopes: [] } });
    },
    { port: 0 },
  );
  return {
    url: `${server.url}/mcp`,
    authorizations,
    get refused() {
      return counts.refused;
    },
    ranAs,
    close: () => server.close(),
  };
}
