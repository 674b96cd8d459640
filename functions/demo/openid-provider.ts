/**
 * The demo's identity provider as a real OpenID Provider (oidc-provider), so MCP clients sign in through the gateway's
 * 401 challenge and RFC 9728 document as they would with a corporate one: dynamic client registration (RFC 7591),
 * the authorization code flow with PKCE (required of every client, as MCP requires), and resource indicators (RFC
 * 8707): an access token for the gateway is a JWT (RFC 9068, typed `at+jwt`) whose `aud` is the gateway's MCP URL
 * the client asked for, carrying the user's `roles`. It signs with the demo's key and publishes it, so the walkthrough's
 * pasted tokens (issuer `acme@example.com`) are verified against the same JWKS.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { errors, type Configuration } from "oidc-provider";
import type { LocalServer } from "../adapters/node-server.js";
import type { DemoUser } from "./demo-users.js";
import { roleClaims } from "./demo-users.js";
import type { SigningJwk } from "./identity-provider.js";
import { clientRegistrations } from "./client-registrations.js";
import { createMemoryStore } from "./memory-store.js";
import { providerIssuer } from "./provider-issuer.js";
import { INTERACTION_PATH, createSignInHandler, errorPage, signInEveryTime } from "./sign-in-page.js";

/** Where the provider publishes its keys (oidc-provider's default path, named in its discovery document). */
export const PROVIDER_JWKS_PATH = "/jwks";

/** Lifetimes, in seconds, of what the provider issues. */
const LIFETIMES = {
  /** An access token for the gateway: one hour, then the client refreshes it or signs in again. */
  AccessToken: 3600,
  AuthorizationCode: 60,
  IdToken: 3600,
  /** A refresh token (issued to clients that ask for `offline_access`). */
  RefreshToken: 8 * 3600,
  /** A sign-in in progress: the time a person has to pick a user. */
  Interaction: 600,
  /** A browser's sign-in at the provider (the sign-in page asks who you are at every sign-in all the same). */
  Session: 8 * 3600,
  Grant: 8 * 3600,
} as const;

export interface OpenIdProviderOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. The issuer is `http://localhost:<port>`. */
  port: number;
  /** Signs every token; its public half is published at PROVIDER_JWKS_PATH. */
  key: SigningJwk;
  /** Who can sign in: findAccount knows them, the sign-in page lists them, their roles go into their access tokens. */
  users: readonly DemoUser[];
  /**
   * The resource indicators (RFC 8707) the provider issues access tokens for: the gateway's MCP URL under each name a
   * client may reach it by. A token's `aud` is the one the client asked for; any other resource is `invalid_target`.
   * A client that names none gets a token for the first.
   */
  resources: readonly string[];
  /**
   * The scope a client asks for to use the gateway (the gateway publishes it as `scopes_supported`), carried by its
   * access tokens. A request must ask for some scope: oidc-provider grants nothing, and refuses, otherwise.
   */
  scope: string;
  /** The file registered clients are kept in (see client-registrations.ts), so that they outlive a restart. */
  clientsFile: string;
}

export interface OpenIdProvider extends LocalServer {
  /** `http://localhost:<port>`: the `iss` of its tokens, and the authorization server the gateway publishes. */
  issuer: string;
  jwksUri: string;
}

function configuration(options: OpenIdProviderOptions): Configuration {
  const userFor = (subject: string | undefined) => options.users.find((user) => user.subject === subject);
  const clients = clientRegistrations(options.clientsFile);
  const memory = createMemoryStore();
  return {
    adapter: (model) => (model === "Client" ? clients : memory(model)),
    jwks: { keys: [options.key] },
    // Signs the interaction cookies; a new secret per run, as sessions do not outlive the process anyway.
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    findAccount: (_ctx, subject) => {
      const user = userFor(subject);
      return user ? { accountId: user.subject, claims: () => ({ sub: user.subject }) } : undefined;
    },
    // Access tokens carry the user's roles, which the gateway's policy reads (`jwt.roles`).
    extraTokenClaims: (_ctx, token) => {
      const user = "accountId" in token ? userFor(token.accountId) : undefined;
      return user ? roleClaims(user) : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      // Open registration, as MCP clients expect: any client may register (RFC 7591), no initial access token.
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? options.resources[0],
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (!options.resources.includes(resource)) {
            throw new errors.InvalidTarget(`this provider issues tokens for ${options.resources.join(", ")} only`);
          }
          return {
            scope: options.scope,
            audience: resource,
            accessTokenFormat: "jwt",
            accessTokenTTL: LIFETIMES.AccessToken,
            jwt: { sign: { alg: options.key.alg as "RS256" } },
          };
        },
      },
    },
    // Registration checks a client's `scope` against these: the MCP SDK registers with the scope it will ask for.
    scopes: ["openid", "offline_access", options.scope],
    pkce: { required: () => true },
    ttl: { ...LIFETIMES },
    routes: { jwks: PROVIDER_JWKS_PATH },
    interactions: { policy: signInEveryTime(), url: (_ctx, interaction) => `${INTERACTION_PATH}${interaction.uid}` },
    // A browser-based MCP client may call the token endpoint from the origin of one of its redirect URIs.
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
    renderError: (ctx, out) => {
      ctx.type = "html";
      ctx.body = errorPage(out);
    },
  };
}

/** Starts the provider on 127.0.0.1 and resolves once it listens. */
export async function startOpenIdProvider(options: OpenIdProviderOptions): Promise<OpenIdProvider> {
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = providerIssuer(port);
  const provider = new Provider(issuer, configuration(options));
  const providerHandler = provider.callback();
  const signIn = createSignInHandler(provider, options.users);
  handle = (req, res) => {
    if (!req.url?.startsWith(INTERACTION_PATH)) return void providerHandler(req, res);
    signIn(req, res).catch((err: unknown) => {
      // No interaction for this browser (expired, or its cookie is missing): say so rather than fail silently.
      const status = err instanceof errors.SessionNotFound ? 400 : 500;
      if (!res.headersSent) res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
      res.end(`Sign-in failed: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  };
  return {
    issuer,
    jwksUri: `${issuer}${PROVIDER_JWKS_PATH}`,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
