/** A real identity provider for tests: keys published as a JWKS over loopback HTTP, tokens signed here. */
import { SignJWT, importSPKI, exportSPKI, importJWK } from "jose";
import type { JWTPayload } from "jose";
import type { LocalServer } from "../../functions/adapters/node-server.js";
import {
  JWKS_PATH,
  generateSigningKey,
  mintToken,
  publicJwk,
  serveJwks,
  type SigningJwk,
  type TokenRequest,
} from "../../functions/demo/identity-provider.js";

export const ISSUER = "acme@example.com";
export const AUDIENCE = "mcp.example.com";

export interface TestIdentityProvider {
  jwksUri: string;
  /** The key published in the JWKS that tokens are signed with by default. */
  key: SigningJwk;
  /** Signs a token with the published key; issuer and audience default to the walkthrough's. */
  token(request?: Partial<TokenRequest>, key?: SigningJwk): Promise<string>;
  /** JWKS requests served so far. */
  jwksRequests(): number;
  close(): Promise<void>;
}

export async function startIdentityProvider(): Promise<TestIdentityProvider> {
  const key = await generateSigningKey();
  let requests = 0;
  const server: LocalServer = await serveJwks(() => {
    requests++;
    return [publicJwk(key)];
  });
  return {
    jwksUri: `${server.url}${JWKS_PATH}`,
    key,
    token: (request = {}, signingKey = key) =>
      mintToken(signingKey, { issuer: ISSUER, audience: AUDIENCE, subject: "jsmith", ...request }),
    jwksRequests: () => requests,
    close: () => server.close(),
  };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** A token with `alg: none` and no signature. */
export function unsignedToken(key: SigningJwk, claims: JWTPayload): string {
  return `${base64url({ alg: "none", kid: key.kid, typ: "JWT" })}.${base64url(claims)}.`;
}

/** The classic key-confusion attack: HS256 with the RSA public key (PEM) as the HMAC secret. */
export async function hmacWithPublicKey(key: SigningJwk, claims: JWTPayload): Promise<string> {
  const pem = await exportSPKI((await importJWK(publicJwk(key), "RS256")) as CryptoKey);
  await importSPKI(pem, "RS256");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "JWT" })
    .sign(new TextEncoder().encode(pem));
}

/** Replaces the payload of a signed token, keeping header and signature. */
export function tamperedToken(token: string, claims: JWTPayload): string {
  const [header, , signature] = token.split(".");
  return `${header}.${base64url(claims)}.${signature}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
