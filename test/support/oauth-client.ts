/**
 * An MCP SDK OAuth client as an interactive MCP client is one: an OAuthClientProvider that registers itself
 * dynamically as a public client (no secret), does the authorization code flow with PKCE, and keeps what it learns in
 * memory. Where a real client would open a browser, it records the authorization URL for a test to visit.
 */
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";

/** Where the client's authorization responses are sent. Nothing listens there: the browser stand-in stops at it. */
export const CALLBACK_URL = "http://127.0.0.1:53682/callback";

export class InMemoryOAuthClient implements OAuthClientProvider {
  /** The URL the client sent the user to, once it did. */
  authorizationUrl: URL | undefined;
  private information: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier: string | undefined;

  constructor(private readonly name: string) {}

  get redirectUrl(): string {
    return CALLBACK_URL;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [CALLBACK_URL],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.information;
  }
  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.information = information;
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    if (!this.verifier) throw new Error("no code verifier saved");
    return this.verifier;
  }
}

/** A client and transport to the gateway at `url` that authorize with `oauth`. */
export function oauthClient(url: string, oauth: OAuthClientProvider): { client: Client; transport: StreamableHTTPClientTransport } {
  return {
    client: new Client({ name: "sign-in-test", version: "1.0.0" }),
    transport: new StreamableHTTPClientTransport(new URL(url), { authProvider: oauth }),
  };
}

/**
 * Signs in to the MCP server at `url` as an interactive client does: the first connection is refused (401), the SDK
 * follows the challenge to the authorization server, registers and sends the user to sign in; `visit` plays the user
 * at that URL and returns the URL the browser was finally sent back to; the code in it is exchanged for tokens, and a
 * second connection, with them, is returned.
 */
export async function signIn(url: string, oauth: InMemoryOAuthClient, visit: (authorizationUrl: URL) => Promise<URL>): Promise<Client> {
  const first = oauthClient(url, oauth);
  await first.client.connect(first.transport).then(
    () => {
      throw new Error("the server let the client in without signing in");
    },
    (err: unknown) => {
      if (!(err instanceof UnauthorizedError)) throw err;
    },
  );
  if (!oauth.authorizationUrl) throw new Error("the client was refused but not sent to sign in");
  const callback = await visit(oauth.authorizationUrl);
  const code = callback.searchParams.get("code");
  if (!code) throw new Error(`the authorization server sent no code back: ${callback.href}`);
  await first.transport.finishAuth(code);
  const second = oauthClient(url, oauth);
  await second.client.connect(second.transport);
  return second.client;
}
