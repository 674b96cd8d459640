/**
 * Fetches JWKS documents for aws-jwt-verify.
 *
 * aws-jwt-verify's own fetcher only speaks https. The gateway keeps it for https and adds plain http for loopback
 * addresses only (the local demo and tests publish keys on 127.0.0.1); the configuration refuses any other http URI
 * at start, and this fetcher refuses it again so no code path can fetch keys in the clear from the network.
 */
import type { Fetcher } from "aws-jwt-verify/https";
import { SimpleFetcher } from "aws-jwt-verify/https";
import { FetchError, NonRetryableFetchError } from "aws-jwt-verify/error";
import { isLoopbackUrl } from "../config/loopback.js";

/** Timeout for one JWKS fetch over loopback http, in milliseconds. */
const LOOPBACK_TIMEOUT_MS = 3_000;

export class JwksFetcher implements Fetcher {
  private readonly https = new SimpleFetcher();

  async fetch(uri: string, requestOptions?: Record<string, unknown>, data?: ArrayBuffer): Promise<ArrayBuffer> {
    const url = new URL(uri);
    if (url.protocol === "https:") return this.https.fetch(uri, requestOptions, data);
    if (url.protocol !== "http:" || !isLoopbackUrl(url)) {
      throw new NonRetryableFetchError(uri, `Refusing to fetch keys over ${url.protocol} from a non-loopback address`);
    }
    let response: Response;
    try {
      response = await fetch(url, { signal: AbortSignal.timeout(LOOPBACK_TIMEOUT_MS), headers: { accept: "application/json" } });
    } catch (err) {
      throw new FetchError(uri, err instanceof Error ? err.message : String(err));
    }
    if (response.status !== 200) {
      throw new NonRetryableFetchError(uri, `Status code is ${response.status}, expected 200`);
    }
    return response.arrayBuffer();
  }
}
