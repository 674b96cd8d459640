/**
 * The signing key `token` may mint with: the running demo's, and only while its identity provider serves it. A key
 * nobody serves signs tokens every gateway refuses, so rather than create one, `token` reads the demo's key file and
 * asks the demo identity provider, on its fixed port, whether it publishes that key; when either fails it says where
 * it looked.
 */
import { resolve } from "node:path";
import { calculateJwkThumbprint, type JWK } from "jose";
import { publicJwk, readSigningKey, type SigningJwk } from "./identity-provider.js";

/** No key to mint with: the message says where `token` looked, and that the demo (`npm start`) provides one. */
export class DemoKeyNotServedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DemoKeyNotServedError";
  }
}

/** How long to wait for the demo identity provider to answer; it runs on this machine. */
const LOOKUP_TIMEOUT_MS = 3000;

/** Why a request got no answer, in words: fetch itself says only "fetch failed", with the cause beneath. */
function unanswered(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") return `no answer within ${LOOKUP_TIMEOUT_MS / 1000} s`;
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause?.code === "ECONNREFUSED") return "connection refused: nothing listens there";
  return typeof cause?.message === "string" ? cause.message : (err as Error).message;
}

async function getJson(url: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS), redirect: "error" });
  } catch (err) {
    throw new Error(unanswered(err), { cause: err });
  }
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/** The keys the OpenID Provider at `issuer` publishes: its discovery document names its JWKS. */
async function publishedKeys(issuer: string): Promise<JWK[]> {
  const metadata = (await getJson(`${issuer}/.well-known/openid-configuration`)) as { jwks_uri?: unknown };
  if (typeof metadata.jwks_uri !== "string") throw new Error(`the discovery document of ${issuer} names no jwks_uri`);
  const jwks = (await getJson(metadata.jwks_uri)) as { keys?: unknown };
  return Array.isArray(jwks.keys) ? (jwks.keys as JWK[]) : [];
}

async function thumbprint(key: JWK): Promise<string | undefined> {
  return calculateJwkThumbprint(key).catch(() => undefined);
}

/**
 * The key in `keyPath` (relative to the working directory), once the demo identity provider at `issuer` has been
 * seen to publish it (same RFC 7638 thumbprint: same key, not merely the same `kid`).
 */
export async function servedDemoKey(keyPath: string, issuer: string): Promise<SigningJwk> {
  const path = resolve(keyPath);
  const key = await readSigningKey(path);
  if (!key) {
    throw new DemoKeyNotServedError(
      `No demo signing key at ${path}. 'npm start' creates .demo/signing-key.json in the directory it runs in: start the demo, ` +
        "then run token in that directory (or give --key that directory's .demo/signing-key.json).",
    );
  }
  let published: JWK[];
  try {
    published = await publishedKeys(issuer);
  } catch (err) {
    throw new DemoKeyNotServedError(
      `The demo identity provider does not answer at ${issuer} (${(err as Error).message}), so nothing would accept a token signed with ${path}. ` +
        "Start the demo with 'npm start' (if it runs with another IDP_PORT, set the same IDP_PORT here).",
      { cause: err },
    );
  }
  const wanted = await thumbprint(publicJwk(key));
  const thumbprints = await Promise.all(published.map(thumbprint));
  if (!thumbprints.includes(wanted)) {
    const kids = published.map((k) => k.kid ?? "(no kid)").join(", ") || "none";
    throw new DemoKeyNotServedError(
      `The demo identity provider at ${issuer} does not publish the key in ${path} (kid ${key.kid}; it publishes ${kids}), so its tokens would be refused. ` +
        "Run token in the directory 'npm start' runs in, or give --key that directory's .demo/signing-key.json.",
    );
  }
  return key;
}
