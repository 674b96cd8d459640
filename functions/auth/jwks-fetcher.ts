/**
 * Fetches JWKS documents for aws-jwt-verify, and finds them by OIDC discovery when no JWKS URI is configured.
 *
 * aws-jwt-verify's own fetcher only speaks https. The gateway keeps it for https and adds plain http for loopback
 * addresses only (the local demo and tests publish keys on 127.0.0.1); the configuration refuses any other http URI
 * at start, and this fetcher refuses it again so no code path can fetch keys in the clear from the network.
 *
 * Discovery: aws-jwt-verify is given the issuer's discovery URL (`<issuer>/.well-known/openid-configuration`) as its
 * JWKS URI. Fetching that URL here reads the document's `jwks_uri` (the document must name the same issuer) and
 * answers with the JWKS found there, so aws-jwt-verify's caching, refetch on an unknown key and penalty box work
 * unchanged. The `jwks_uri` found is remembered for the life of the process.
 */
import type { Fetcher } from "aws-jwt-verify/https";
import { SimpleFetcher } from "aws-jwt-verify/https";
import { FetchError, NonRetryableFetchError } from "aws-jwt-verify/error";
import { isLoopbackUrl } from "../config/loopback.js";
import { describeFetchFailure } from "./fetch-failure.js";

/** Timeout for one JWKS fetch over loopback http, in milliseconds. */
const LOOPBACK_TIMEOUT_MS = 3_000;

export const DISCOVERY_SUFFIX = "/.well-known/openid-configuration";

/** The discovery URL of an issuer: where aws-jwt-verify is told the keys are, when no JWKS URI is configured. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, "")}${DISCOVERY_SUFFIX}`;
}

export class JwksFetcher implements Fetcher {
  private readonly https = new SimpleFetcher();
  /** Discovery URL → the `jwks_uri` its document named. */
  private readonly discovered = new Map<string, string>();

  async fetch(uri: string, requestOptions?: Record<string, unknown>, data?: ArrayBuffer): Promise<ArrayBuffer> {
    if (!uri.endsWith(DISCOVERY_SUFFIX)) return this.fetchDirect(uri, requestOptions, data);
    let jwksUri = this.discovered.get(uri);
    if (!jwksUri) {
      jwksUri = await this.discover(uri, requestOptions);
      this.discovered.set(uri, jwksUri);
    }
    return this.fetchDirect(jwksUri, requestOptions);
  }

  private async discover(uri: string, requestOptions?: Record<string, unknown>): Promise<string> {
    const issuer = uri.slice(0, -DISCOVERY_SUFFIX.length);
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      document = JSON.parse(new TextDecoder().decode(await this.fetchDirect(uri, requestOptions))) as typeof document;
    } catch (err) {
      if (err instanceof FetchError) throw err;
      throw new NonRetryableFetchError(uri, `OIDC discovery document is not JSON: ${(err as Error).message}`);
    }
    if (typeof document.issuer !== "string" || document.issuer.replace(/\/+$/, "") !== issuer.replace(/\/+$/, "")) {
      throw new NonRetryableFetchError(uri, `OIDC discovery document names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
    }
    if (typeof document.jwks_uri !== "string" || !URL.canParse(document.jwks_uri)) {
      throw new NonRetryableFetchError(uri, "OIDC discovery document has no jwks_uri");
    }
    return document.jwks_uri;
  }

  private async fetchDirect(uri: string, requestOptions?: Record<string, unknown>, data?: ArrayBuffer): Promise<ArrayBuffer> {
    const url = new URL(uri);
    if (url.protocol === "https:") return this.https.fetch(uri, requestOptions, data);
    if (url.protocol !== "http:" || !isLoopbackUrl(url)) {
      throw new NonRetryableFetchError(uri, `Refusing to fetch keys over ${url.protocol} from a non-loopback address`);
    }
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(LOOPBACK_TIMEOUT_MS), headers: { accept: "application/json" } });
    } catch (err) {
      // Named with its cause (`fetch failed: connect ECONNREFUSED 127.0.0.1:8080`): "fetch failed" alone says nothing.
      throw new FetchError(uri, describeFetchFailure(err));
    }
    if (response.status !== 200) {
      throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  }
}
