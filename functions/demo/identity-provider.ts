/**
 * The demo identity provider's keys and tokens: an RS256 key pair kept in a file, its public half served as a JWKS
 * over HTTP, and tokens signed with the private half (what the `step` CLI did in the original walkthrough). The
 * demo's OpenID Provider (openid-provider.ts) signs with the same key.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK, type JWTHeaderParameters, type JWTPayload } from "jose";
import { serveFetch, type LocalServer } from "../adapters/node-server.js";

export const JWKS_PATH = "/.well-known/jwks.json";

/** A private signing key as a JWK, with its `kid` and `alg`. */
export type SigningJwk = JWK & { kid: string; alg: string };

export async function generateSigningKey(alg = "RS256"): Promise<SigningJwk> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: "sig" };
}

/** The public half of a signing key, as published in a JWKS. */
export function publicJwk(key: SigningJwk): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = key;
  return publicPart;
}

/** A key file that exists but holds no private signing key: it is reported, never replaced. */
export class SigningKeyFileError extends Error {
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${path} ${problem}`, options);
    this.name = "SigningKeyFileError";
  }
}

/** Reads a key written by `loadOrCreateSigningKey`; undefined when there is no such file. */
export async function readSigningKey(path: string): Promise<SigningJwk | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new SigningKeyFileError(path, `cannot be read: ${(err as Error).message}`, { cause: err });
  }
  let key: Partial<SigningJwk> | undefined;
  try {
    key = JSON.parse(text) as Partial<SigningJwk>;
  } catch {
    key = undefined;
  }
  if (typeof key?.kid !== "string" || typeof key.alg !== "string" || typeof key.d !== "string") {
    throw new SigningKeyFileError(path, "is not a private signing key (a JWK with kid, alg and d, as the demo writes)");
  }
  return key as SigningJwk;
}

/** Reads the key at `path`, or, when there is none, creates one and saves it there (readable by this user only). */
export async function loadOrCreateSigningKey(path: string): Promise<SigningJwk> {
  const existing = await readSigningKey(path);
  if (existing) return existing;
  const key = await generateSigningKey();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
  return key;
}

export interface TokenRequest {
  issuer: string;
  /** `aud`; `null` for none at all (a Cognito access token). */
  audience: string | string[] | null;
  subject?: string;
  /** Further claims, e.g. `{ roles: ["admin"] }`. */
  claims?: JWTPayload;
  /**
   * Lifetime in seconds, or a jose time span such as `"10y"` or `"1h"`; `null` for no `exp` at all (a security event
   * token). Default one hour.
   */
  expiresIn?: number | string | null;
  /**
   * Protected header parameters over the defaults (`alg` and `kid` of the key, `typ: "JWT"`): e.g. `{ typ: "at+jwt" }`,
   * `{ typ: undefined }` for no `typ`, or a `crit` list with the parameters it names (signed as given).
   */
  header?: Record<string, unknown>;
}

export async function mintToken(key: SigningJwk, request: TokenRequest): Promise<string> {
  const header: JWTHeaderParameters = { alg: key.alg, kid: key.kid, typ: "JWT", ...request.header };
  const jwt = new SignJWT({ ...request.claims }).setProtectedHeader(header).setIssuer(request.issuer).setIssuedAt().setJti(randomUUID());
  if (request.audience !== null) jwt.setAudience(request.audience);
  if (request.subject !== undefined) jwt.setSubject(request.subject);
  const expiresIn = request.expiresIn === undefined ? 3600 : request.expiresIn;
  if (expiresIn !== null) jwt.setExpirationTime(typeof expiresIn === "number" ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
  // jose signs a crit header only when told the extensions it names are understood.
  const crit = Array.isArray(header.crit) ? Object.fromEntries(header.crit.map((name) => [name, true])) : undefined;
  return jwt.sign(await importJWK(key, key.alg), crit ? { crit } : undefined);
}

/** Serves `{ keys }` at /.well-known/jwks.json; `keys` is read on every request, so keys can be added while it runs. */
export function serveJwks(keys: () => JWK[], port = 0): Promise<LocalServer> {
  return serveFetch(
    async (request) =>
      new URL(request.url).pathname === JWKS_PATH
        ? Response.json({ keys: keys() }, { headers: { "cache-control": "max-age=300" } })
        : new Response("Not found", { status: 404 }),
    { port },
  );
}
