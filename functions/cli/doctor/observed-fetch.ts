/**
 * The one fetch every doctor request goes through, the MCP SDK's included: it gives each request a time limit (for its
 * answer to begin, so a held-open event stream is not cut) and keeps a record of every exchange, so a check can say
 * what status a URL answered even where the SDK only reports that discovery failed, and how long each request took.
 */
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";

/** At most this much of an error answer's body is kept, for its message. */
const KEPT_ERROR_BODY_CHARS = 4_096;

export interface Exchange {
  method: string;
  url: string;
  /** Whether the answer's headers arrived or the request failed; until then only method and url are known. */
  finished: boolean;
  /** The answer's status and headers; absent when there was no answer. */
  status?: number;
  headers?: Headers;
  /** Milliseconds until the answer's headers arrived (or the request failed). */
  ms: number;
  /** Why there was no answer: a connection error, or no answer in time. */
  error?: string;
  /** The body of an answer with status 400 or above (its first KEPT_ERROR_BODY_CHARS characters). */
  errorBody?: string;
}

/** A fetch failure in words: node's fetch hides the reason (ECONNREFUSED, ENOTFOUND...) in its cause. */
export function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : undefined;
  return detail ? `${error.message} (${detail})` : error.message;
}

export class ObservedFetch {
  readonly exchanges: Exchange[] = [];
  /** Who waits for an exchange to finish. */
  private readonly listeners = new Map<Exchange, () => void>();

  /** @param timeoutMs how long a request may wait for its answer to begin. */
  constructor(private readonly timeoutMs: number) {}

  readonly fetch: FetchLike = async (input, init) => {
    const exchange: Exchange = { method: (init?.method ?? "GET").toUpperCase(), url: String(input), finished: false, ms: 0 };
    this.exchanges.push(exchange);
    const limit = new AbortController();
    const timer = setTimeout(() => limit.abort(new Error(`no answer within ${this.timeoutMs / 1000} s`)), this.timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, limit.signal]) : limit.signal;
    const started = performance.now();
    try {
      const response = await fetch(input, { ...init, signal });
      Object.assign(exchange, { status: response.status, headers: response.headers, ms: performance.now() - started });
      if (response.status >= 400) exchange.errorBody = (await response.clone().text().catch(() => "")).slice(0, KEPT_ERROR_BODY_CHARS);
      this.finish(exchange);
      return response;
    } catch (error) {
      const reason = limit.signal.aborted ? (limit.signal.reason as Error) : error;
      Object.assign(exchange, { ms: performance.now() - started, error: describeFetchError(reason) });
      this.finish(exchange);
      throw reason;
    } finally {
      clearTimeout(timer);
    }
  };

  /** The latest finished exchange with `url` (and `method`, when given). */
  last(url: string | URL, method?: string): Exchange | undefined {
    const href = String(url);
    return this.exchanges.findLast((exchange) => exchange.finished && exchange.url === href && (method === undefined || exchange.method === method));
  }

  /**
   * The first exchange from index `since` on that `matches`, once finished; undefined when none was started. A request
   * that was started always finishes (it has a time limit), so this never waits for one that will not come.
   */
  async started(matches: (exchange: Exchange) => boolean, since: number): Promise<Exchange | undefined> {
    const exchange = this.exchanges.slice(since).find(matches);
    if (!exchange || exchange.finished) return exchange;
    await new Promise<void>((resolve) => this.listeners.set(exchange, resolve));
    return exchange;
  }

  private finish(exchange: Exchange): void {
    exchange.finished = true;
    this.listeners.get(exchange)?.();
    this.listeners.delete(exchange);
  }
}

/** The message of an error answer: a JSON-RPC error's, API Gateway's `{"message": ...}`, or the start of its text. */
export function errorMessage(exchange: Exchange): string {
  const body = exchange.errorBody ?? "";
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown }; message?: unknown };
    const message = parsed.error?.message ?? parsed.message;
    if (typeof message === "string") return message;
  } catch {
    // not JSON: the text itself
  }
  const text = body.replace(/\s+/g, " ").trim();
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** `404 Not found`, `200`, or why there was no answer: an answer in words, for a finding. */
export function describeAnswer(exchange: Exchange | undefined): string {
  if (!exchange) return "not requested";
  if (exchange.status === undefined) return exchange.error ?? "no answer";
  const message = exchange.status >= 400 ? errorMessage(exchange) : "";
  return message ? `${exchange.status} ${message}` : String(exchange.status);
}
