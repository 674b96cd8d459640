/**
 * Check 5, with a token: an MCP SDK client connects as clients do (initialize, then notifications/initialized) with
 * the token as its bearer credential. Reports the protocol version agreed and the server's name; when the gateway
 * refuses, its answer says why (401 invalid token, 403 missing scopes, 502 backend unreachable...), and so does
 * doctor, with what to do.
 */
import { extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { REMAPPED_CHALLENGE_HEADER } from "./challenge.js";
import { describeAnswer, type Exchange, type ObservedFetch } from "./observed-fetch.js";
import type { Finding } from "./report.js";

export interface McpConnection {
  client: Client;
  transport: StreamableHTTPClientTransport;
  /** Ends the session (DELETE, as clients do when they are done) and closes the client. */
  close(): Promise<void>;
}

export interface InitializeResult {
  finding: Finding;
  /** The connected client, when initialize succeeded. */
  connection?: McpConnection;
}

const NOT_CHECKED = "Not checked without it: tools/list, streaming, latency.";

/** The challenge's parameters, under whichever name the header came. */
function challengeOf(exchange: Exchange): { error?: string; scope?: string } {
  const value = exchange.headers?.get("www-authenticate") ?? exchange.headers?.get(REMAPPED_CHALLENGE_HEADER);
  return value ? extractWWWAuthenticateParams(new Response(null, { headers: { "www-authenticate": value } })) : {};
}

/** What the gateway's refusal means, and what to do. */
function refusal(exchange: Exchange): Pick<Finding, "seen" | "fix"> {
  const { error, scope } = challengeOf(exchange);
  const said = `the gateway answered ${describeAnswer(exchange)}${error ? ` (${error}${scope ? `, scope "${scope}"` : ""})` : ""}`;
  switch (exchange.status) {
    case 401:
      return {
        seen: `${said}.`,
        fix: "give a current access token the identity provider issued for this gateway (its issuer and audience: JWT_ISSUER, JWT_AUDIENCE); the gateway's access-log line for this request names the exact reason.",
      };
    case 403:
      return scope
        ? { seen: `${said}.`, fix: `get a token with the scopes "${scope}" (JWT_REQUIRED_SCOPES).` }
        : { seen: `${said}.`, fix: "the gateway refuses a Host outside ALLOWED_HOSTS and requests that bypass its front door; call the URL clients use." };
    case 502:
    case 504:
      return { seen: `${said}.`, fix: "check that MCP_BACKEND_URL is reachable from the gateway and answers MCP; the access log says what failed." };
    case 503:
      return { seen: `${said}.`, fix: "the gateway cannot reach what it depends on (the identity provider's keys, the policy, the session key); its log says which." };
    default:
      return { seen: `${said}.` };
  }
}

export async function initialize(endpoint: URL, token: string, http: ObservedFetch): Promise<InitializeResult> {
  const check = "initialize";
  const since = http.exchanges.length;
  const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { authorization: `Bearer ${token}` } }, fetch: http.fetch });
  const client = new Client({ name: "mcp-sso-gateway-doctor", version: "1.0.0" });
  try {
    await client.connect(transport);
  } catch (error) {
    await client.close().catch(() => undefined);
    const refused = http.exchanges.slice(since).find((exchange) => exchange.method === "POST" && (exchange.status ?? 0) >= 400);
    if (refused) {
      const { seen, fix } = refusal(refused);
      return { finding: { level: "fail", check, seen: `${seen} ${NOT_CHECKED}`, ...(fix ? { fix } : {}) } };
    }
    const failed = http.exchanges.slice(since).find((exchange) => exchange.error !== undefined);
    const why = failed ? describeAnswer(failed) : error instanceof Error ? error.message : String(error);
    return { finding: { level: "fail", check, seen: `the MCP client could not connect: ${why}. ${NOT_CHECKED}` } };
  }
  const server = client.getServerVersion();
  const session = transport.sessionId === undefined ? "without a session" : "with a session";
  return {
    finding: {
      level: "ok",
      check,
      seen: `protocol version ${transport.protocolVersion ?? "(none agreed)"}, server ${JSON.stringify(server?.name ?? "(unnamed)")} ${server?.version ?? ""}`.trimEnd() + `, ${session}`,
    },
    connection: {
      client,
      transport,
      async close() {
        await transport.terminateSession().catch(() => undefined);
        await client.close().catch(() => undefined);
      },
    },
  };
}
