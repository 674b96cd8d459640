/**
 * A local OpenID Connect provider for tests, with real keys over loopback HTTP. Its issuer is its own origin,
 * optionally with a path (`/realms/acme`, or `/` for Auth0's trailing slash). It publishes a discovery document whose
 * `jwks_uri` is at a non-default path (so only a verifier that really follows discovery finds the keys), serves that
 * JWKS from a key list a test can change or make fail, counts every request by path, signs tokens with any claims and
 * key, and issues client_credentials tokens at its token endpoint (for MCP SDK clients doing OAuth discovery).
 */
import { randomUUID } from "node:crypto";
import { SignJWT, importJWK, type JWTPayload } from "jose";
import { serveFetch, type LocalServer } from "../../functions/adapters/node-server.js";
import { generateSigningKey, mintToken, publicJwk, type SigningJwk } from "../../functions/demo/identity-provider.js";

/** Keycloak's paths, relative to the issuer: nothing a verifier could guess from aws-jwt-verify's default. */
export const JWKS_PATH = "/protocol/openid-connect/certs";
export const TOKEN_PATH = "/protocol/openid-connect/token";
export const DISCOVERY_PATH = "/.well-known/openid-configuration";
export const DEFAULT_AUDIENCE = "mcp-gateway";

export interface OidcClient {
  secret: string;
  /** Claims of the tokens issued to this client (besides iss, aud, sub, azp, client_id, scope, iat, exp, jti). */
  claims?: JWTPayload;
}

export interface OidcProviderOptions {
  /** Path of the issuer under the provider's origin, e.g. `/realms/acme`; `/` gives a trailing slash. Default none. */
  issuerPath?: string;
  /** The `issuer` the discovery document names. Default: the real issuer (set it to test a mismatch). */
  documentIssuer?: string;
  /** `aud` of the tokens signed here, unless a token asks otherwise. Default `mcp-gateway`. */
  audience?: string;
  /** TCP port; default a free one. Pass a stopped provider's port (and keys) to bring it back. */
  port?: number;
  /** Keys published at start; the first signs tokens by default. Default: one new RS256 key. */
  keys?: SigningJwk[];
  /** Clients known to the token endpoint (client_credentials grant, client_secret_basic or _post). */
  clients?: Record<string, OidcClient>;
}

export interface TokenOptions {
  /** Signing key. Default: the provider's first key (`provider.key`). */
  key?: SigningJwk;
  /** `aud`; `null` for none at all (a Cognito access token). Default: the provider's audience. */
  audience?: string | string[] | null;
  /** `sub`. Default `jsmith`. */
  subject?: string;
  /** `iss`. Default: the provider's issuer. */
  issuer?: string;
  /** Lifetime in seconds. Default 600. */
  expiresIn?: number;
}

export interface OidcProvider {
  /** The exact `iss` of its tokens. */
  issuer: string;
  origin: string;
  port: number;
  discoveryUrl: string;
  jwksUri: string;
  tokenEndpoint: string;
  /** The key tokens are signed with by default (published from the start). */
  key: SigningJwk;
  /** The published keys, in order; push to publish a new one. */
  keys: SigningJwk[];
  /** Makes the JWKS endpoint answer this status instead of the keys; undefined: serve the keys again. */
  failJwks(status: number | undefined): void;
  /** Requests served so far at a path (relative to the origin), or in all when no path is given. */
  requests(path?: string): number;
  /** The form parameters of every token request, in order. */
  tokenRequests: URLSearchParams[];
  token(claims?: JWTPayload, options?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

function clientCredentials(request: Request, form: URLSearchParams): { id?: string; secret?: string } {
  const basic = /^Basic (.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!basic) return { id: form.get("client_id") ?? undefined, secret: form.get("client_secret") ?? undefined };
  const [id = "", secret = ""] = Buffer.from(basic, "base64").toString("utf8").split(":");
  return { id: decodeURIComponent(id), secret: decodeURIComponent(secret) };
}

export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<OidcProvider> {
  const keys = options.keys ?? [await generateSigningKey()];
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const counts = new Map<string, number>();
  const tokenRequests: URLSearchParams[] = [];
  let jwksFailure: number | undefined;
  // Known once the server listens; routes are relative to the issuer's path.
  const basePath = (options.issuerPath ?? "").replace(/\/+$/, "");
  let issuer = "";

  async function sign(claims: JWTPayload, opts: TokenOptions = {}): Promise<string> {
    const key = opts.key ?? (keys[0] as SigningJwk);
    const request = { issuer: opts.issuer ?? issuer, subject: opts.subject ?? "jsmith", claims, expiresIn: opts.expiresIn ?? 600 };
    if (opts.audience !== null) return mintToken(key, { ...request, audience: opts.audience ?? audience });
    // mintToken always sets `aud`; a Cognito access token has none.
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
      .setIssuer(request.issuer)
      .setSubject(request.subject)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(Math.floor(Date.now() / 1000) + request.expiresIn)
      .sign(await importJWK(key, key.alg));
  }

  async function issueToken(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text());
    tokenRequests.push(form);
    const { id, secret } = clientCredentials(request, form);
    const client = id ? options.clients?.[id] : undefined;
    if (form.get("grant_type") !== "client_credentials") return Response.json({ error: "unsupported_grant_type" }, { status: 400 });
    if (!id || !client || client.secret !== secret) return Response.json({ error: "invalid_client" }, { status: 401 });
    const scope = form.get("scope") ?? "";
    const accessToken = await sign({ ...client.claims, azp: id, client_id: id, scope }, { subject: `service-account-${id}` });
    return Response.json({ access_token: accessToken, token_type: "Bearer", expires_in: 600, scope });
  }

  const server: LocalServer = await serveFetch(
    async (request) => {
      const path = new URL(request.url).pathname;
      counts.set(path, (counts.get(path) ?? 0) + 1);
      if (path === `${basePath}${DISCOVERY_PATH}`) {
        const base = `${new URL(request.url).origin}${basePath}`;
        return Response.json({
          issuer: options.documentIssuer ?? issuer,
          authorization_endpoint: `${base}/protocol/openid-connect/auth`,
          token_endpoint: `${base}${TOKEN_PATH}`,
          jwks_uri: `${base}${JWKS_PATH}`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
          grant_types_supported: ["authorization_code", "client_credentials"],
          token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
          code_challenge_methods_supported: ["S256"],
        });
      }
      if (path === `${basePath}${JWKS_PATH}`) {
        if (jwksFailure !== undefined) return new Response("JWKS unavailable", { status: jwksFailure });
        return Response.json({ keys: keys.map(publicJwk) });
      }
      if (path === `${basePath}${TOKEN_PATH}` && request.method === "POST") return issueToken(request);
      return new Response("Not found", { status: 404 });
    },
    { port: options.port ?? 0 },
  );
  const origin = server.url;
  issuer = `${origin}${options.issuerPath ?? ""}`;
  return {
    issuer,
    origin,
    port: Number(new URL(origin).port),
    discoveryUrl: `${origin}${basePath}${DISCOVERY_PATH}`,
    jwksUri: `${origin}${basePath}${JWKS_PATH}`,
    tokenEndpoint: `${origin}${basePath}${TOKEN_PATH}`,
    key: keys[0] as SigningJwk,
    keys,
    failJwks: (status) => {
      jwksFailure = status;
    },
    requests: (path) => (path === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : (counts.get(path) ?? 0)),
    tokenRequests,
    token: sign,
    close: () => server.close(),
  };
}

/** Paths (relative to the origin) of a provider's discovery document and JWKS, for `requests(path)`. */
export function providerPaths(provider: Pick<OidcProvider, "discoveryUrl" | "jwksUri">): { discovery: string; jwks: string } {
  return { discovery: new URL(provider.discoveryUrl).pathname, jwks: new URL(provider.jwksUri).pathname };
}
