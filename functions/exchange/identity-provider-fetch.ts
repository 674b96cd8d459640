/**
 * One request to the identity provider on behalf of a token exchange (its discovery document, its token endpoint):
 * within a time limit, no redirect followed (the gateway's client credentials go to the URL configured, nowhere else),
 * the answer read whole but bounded. Failures become the exchange's typed errors: too slow is 504, anything else 502.
 */
import { describeFetchFailure } from "../auth/fetch-failure.js";
import { TokenExchangeTimeoutError, TokenExchangeUnavailableError } from "../errors.js";
import { readTextWithin } from "../http/bounded-text.js";

/** The largest answer read from the provider; a token response is a few kilobytes. */
const MAX_ANSWER_BYTES = 256 * 1024;

export interface ProviderAnswer {
  status: number;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export async function fetchFromProvider(url: URL, init: RequestInit, server: string, timeoutMs: number): Promise<ProviderAnswer> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { ...init, redirect: "error", signal, headers: { accept: "application/json", ...init.headers } });
    const text = await readTextWithin(response.body, MAX_ANSWER_BYTES);
    if (text === undefined) throw new TokenExchangeUnavailableError(server, `${url.href} answered more than ${MAX_ANSWER_BYTES} bytes`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  } catch (err) {
    if (err instanceof TokenExchangeUnavailableError) throw err;
    if (signal.aborted) throw new TokenExchangeTimeoutError(server, timeoutMs);
    throw new TokenExchangeUnavailableError(server, `${url.href} could not be reached: ${describeFetchFailure(err)}`, { cause: err });
  }
}
