/**
 * A real OpenID Provider (oidc-provider) for token exchange tests, on loopback. It issues the callers' access tokens
 * (JWTs for the gateway's audience, by a password grant of the test client) and exchanges them, for the gateway's
 * clients (client_secret_basic, client_secret_post, private_key_jwt), for JWT access tokens of a backend's audience:
 * by RFC 8693 token exchange (`subject_token`, `audience` or `resource`, `scope`) and by a jwt-bearer grant shaped as
 * Entra ID's on-behalf-of (`assertion`, `requested_token_use=on_behalf_of`, the API named in `scope` as
 * `<audience>/<scope>` or `<audience>/.default`, errors with AADSTS codes). The subject token is verified against the
 * provider's own keys and the gateway's audience. Tests can count exchanges, refuse a user, slow or stop the provider.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createLocalJWKSet, jwtVerify, type JWK } from "jose";
import Provider, { errors, type KoaContextWithOIDC } from "oidc-provider";
import { generateSigningKey, publicJwk, type SigningJwk } from "../../functions/demo/identity-provider.js";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
/** The audience of the callers' tokens: the gateway. */
export const GATEWAY_AUDIENCE = "api://mcp-gateway";
/** The test MCP client, whose password grant issues the callers' tokens. */
const CALLER_CLIENT = { id: "mcp-client", secret: "mcp-client-secret" };

export interface ExchangeAudience {
  /** The scopes a token for this audience may carry; asking for another is `invalid_scope`. */
  scopes: string[];
  /** Lifetime of its exchanged tokens, in seconds. */
  ttlSeconds: number;
}

export interface ExchangeClient {
  id: string;
  method: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
  /** The secret (secret methods), or the public key of the private JWK (private_key_jwt). */
  secret?: string;
  publicKey?: JWK;
}

export interface ExchangeRecord {
  grant: "token-exchange" | "on-behalf-of";
  client: string;
  subject: string;
  audience: string;
}

export interface ExchangeProviderOptions {
  /** The backends' audiences, by identifier. */
  audiences: Record<string, ExchangeAudience>;
  /** The gateway's clients. */
  clients: ExchangeClient[];
}

export interface ExchangeProvider {
  issuer: string;
  jwksUri: string;
  tokenEndpoint: string;
  /** Every exchange the provider was asked for (after client authentication), in order. */
  exchanges: ExchangeRecord[];
  /** The audiences, mutable (a test can shorten a lifetime). */
  audiences: Record<string, ExchangeAudience>;
  /** Users whose exchanges are refused, with the error code (OAuth's `error`). */
  refused: Map<string, string>;
  /** Milliseconds the token endpoint waits before answering; 0 by default. */
  tokenDelayMs: number;
  /** An access token for the gateway, for this user, issued at the token endpoint. */
  callerToken(user: string, ttlSeconds?: number): Promise<string>;
  /** Stops listening (connections refused) until `start()`, on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Entra's answer when the user (or an admin) has not consented to the API the gateway asks for. */
function entraConsentRequired(ctx: KoaContextWithOIDC): void {
  ctx.status = 400;
  ctx.body = {
    error: "invalid_grant",
    error_description: "AADSTS65001: The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.",
    error_codes: [65001],
    suberror: "consent_required",
  };
}

export async function startExchangeProvider(options: ExchangeProviderOptions): Promise<ExchangeProvider> {
  const key: SigningJwk = await generateSigningKey();
  const exchanges: ExchangeRecord[] = [];
  const refused = new Map<string, string>();
  const state = { tokenDelayMs: 0 };
  const { audiences } = options;

  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  await listen(0);
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const ownKeys = createLocalJWKSet({ keys: [publicJwk(key)] });

  const clients = [
    { client_id: CALLER_CLIENT.id, client_secret: CALLER_CLIENT.secret, grant_types: ["password"], redirect_uris: [], response_types: [] },
    ...options.clients.map((client) => ({
      client_id: client.id,
      token_endpoint_auth_method: client.method,
      grant_types: [TOKEN_EXCHANGE_GRANT, JWT_BEARER_GRANT],
      redirect_uris: [],
      response_types: [],
      ...(client.secret ? { client_secret: client.secret } : {}),
      ...(client.publicKey ? { jwks: { keys: [client.publicKey] } } : {}),
    })),
  ];
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [key] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    features: { devInteractions: { enabled: false } },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  });

  /** Issues a JWT access token for `audience` to the requesting client, naming `subject`. */
  async function issue(ctx: KoaContextWithOIDC, subject: string, audience: string, scope: string, extra: Record<string, unknown>, ttl = audiences[audience]?.ttlSeconds ?? 600) {
    if (!ctx.oidc.client) throw new errors.InvalidClient("no client");
    const token = new provider.AccessToken({
      accountId: subject,
      client: ctx.oidc.client,
      gty: "exchange",
      grantId: randomUUID(),
      scope: scope || undefined,
      expiresIn: ttl,
      extra,
      resourceServer: { audience, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } } as never,
    });
    ctx.body = { access_token: await token.save(), token_type: "Bearer", expires_in: ttl, scope, issued_token_type: ACCESS_TOKEN_TYPE };
  }

  /** The caller's token, verified as one this provider issued for the gateway; else invalid_grant. */
  async function subjectOf(token: unknown): Promise<string> {
    try {
      const { payload } = await jwtVerify(String(token), ownKeys, { issuer, audience: GATEWAY_AUDIENCE });
      return payload.sub as string;
    } catch (err) {
      throw new errors.InvalidGrant(`the subject token is not valid: ${(err as Error).message}`);
    }
  }

  /** The scopes asked for, each allowed for `audience`; else invalid_scope or invalid_target. */
  function checkScopes(audience: string, scopes: string[]): void {
    const known = audiences[audience];
    if (!known) throw new errors.InvalidTarget(`unknown audience ${audience}`);
    const refusedScopes = scopes.filter((s) => !known.scopes.includes(s));
    if (refusedScopes.length > 0) throw new errors.InvalidScope(`scope not allowed for ${audience}`, refusedScopes.join(" "));
  }

  provider.registerGrantType(
    TOKEN_EXCHANGE_GRANT,
    async (ctx) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest("subject_token_type must be an access token");
      const subject = await subjectOf(params.subject_token);
      const audience = params.resource ?? params.audience ?? "";
      exchanges.push({ grant: "token-exchange", client: ctx.oidc.client?.clientId as string, subject, audience });
      const refusal = refused.get(subject);
      if (refusal) {
        ctx.status = 400;
        ctx.body = { error: refusal, error_description: `exchange refused for ${subject}` };
        return;
      }
      const scopes = (params.scope ?? "").split(" ").filter(Boolean);
      checkScopes(audience, scopes);
      await issue(ctx, subject, audience, scopes.join(" "), { act: { sub: ctx.oidc.client?.clientId } });
    },
    ["subject_token", "subject_token_type", "requested_token_type", "audience", "resource", "scope"],
  );

  provider.registerGrantType(
    JWT_BEARER_GRANT,
    async (ctx) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      if (params.requested_token_use !== "on_behalf_of") throw new errors.InvalidRequest("requested_token_use must be on_behalf_of");
      const subject = await subjectOf(params.assertion);
      // Entra names the API in each scope: <application id URI>/<permission>, or /.default for all granted.
      const scopes = (params.scope ?? "").split(" ").filter(Boolean);
      const audience = scopes[0]?.slice(0, scopes[0].lastIndexOf("/")) ?? "";
      exchanges.push({ grant: "on-behalf-of", client: ctx.oidc.client?.clientId as string, subject, audience });
      if (refused.has(subject)) return entraConsentRequired(ctx);
      const permissions = scopes.map((s) => s.slice(s.lastIndexOf("/") + 1));
      const granted = permissions.includes(".default") ? (audiences[audience]?.scopes ?? []) : permissions;
      checkScopes(audience, granted);
      await issue(ctx, subject, audience, granted.join(" "), { azp: ctx.oidc.client?.clientId });
    },
    ["assertion", "requested_token_use", "scope"],
  );

  provider.registerGrantType(
    "password",
    async (ctx) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      await issue(ctx, params.username ?? "", GATEWAY_AUDIENCE, "mcp", {}, Number(params.ttl ?? 600));
    },
    ["username", "password", "ttl"],
  );

  const callback = provider.callback();
  handle = (req, res) => {
    if (req.url?.startsWith("/token") && state.tokenDelayMs > 0) {
      setTimeout(() => callback(req, res), state.tokenDelayMs);
      return;
    }
    void callback(req, res);
  };

  const stop = () =>
    new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    });

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    tokenEndpoint: `${issuer}/token`,
    exchanges,
    audiences,
    refused,
    get tokenDelayMs() {
      return state.tokenDelayMs;
    },
    set tokenDelayMs(ms: number) {
      state.tokenDelayMs = ms;
    },
    async callerToken(user, ttlSeconds = 600) {
      const response = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from(`${CALLER_CLIENT.id}:${CALLER_CLIENT.secret}`).toString("base64")}` },
        body: new URLSearchParams({ grant_type: "password", username: user, password: "x", ttl: String(ttlSeconds) }),
      });
      const body = (await response.json()) as { access_token?: string };
      if (!body.access_token) throw new Error(`no caller token: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    stop,
    start: () => listen(port),
    close: stop,
  };
}
