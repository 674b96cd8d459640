/**
 * The access log: exactly one line per request, written when the response is complete (for a streamed response,
 * when the stream ends), with what an operator needs to answer "who did what, and why was it refused?".
 */
import type { AccessLogEntry } from "../access-log-entry.js";
import type { GatewayLogger } from "../logging.js";
import { NO_METRICS, type GatewayMetrics } from "../metrics.js";
import type { Decision } from "../policy/types.js";

export type { AccessLogEntry };

/**
 * Longest text a field of the line keeps. Tool names, session ids and reasons can carry what a caller chose (a 10 KB
 * `kid`, a megabyte-long tool name); the line must stay one readable line, within CloudWatch's event size.
 */
export const MAX_FIELD_CHARS = 512;

function capped(value: string): string {
  return value.length <= MAX_FIELD_CHARS ? value : `${value.slice(0, MAX_FIELD_CHARS)}...(${value.length - MAX_FIELD_CHARS} more characters)`;
}

/** The path of a URL WHATWG cannot parse, as written: what follows the authority, up to a query or fragment. */
function pathOf(url: string): string {
  return url.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, "").replace(/[?#][\s\S]*$/, "") || "/";
}

export class AccessLog {
  readonly entry: AccessLogEntry;
  private readonly startedAt = performance.now();
  private written = false;

  /**
   * The request's URL, parsed once for everyone; undefined when WHATWG URL parsing refuses it (a Host header such as
   * `xn--` that node's HTTP parser lets through), and the gateway refuses the request.
   */
  readonly url: URL | undefined;

  /** @param request what is known of the request: its method, URL as the adapter wrote it, and headers. */
  constructor(
    private readonly logger: GatewayLogger,
    request: Pick<Request, "method" | "url" | "headers">,
    private readonly metrics: GatewayMetrics = NO_METRICS,
  ) {
    this.url = URL.parse(request.url) ?? undefined;
    this.entry = { time: new Date().toISOString(), httpMethod: request.method, path: this.url?.pathname ?? pathOf(request.url) };
    const sessionId = request.headers.get("mcp-session-id");
    if (sessionId) this.entry.sessionId = sessionId;
  }

  /** Records how many list items were removed, turning an allowed request into a filtered one. */
  countRemoved(removed: number): void {
    if (removed === 0) return;
    this.entry.listItemsRemoved = (this.entry.listItemsRemoved ?? 0) + removed;
    if (this.entry.decision !== "denied") this.entry.decision = "filtered";
  }

  /** Records a dry-run decision that differs from the one in force. */
  recordDryRun(wouldBe: Decision): void {
    this.entry.dryRunDecision = wouldBe.allowed ? "allowed" : "denied";
    if (wouldBe.rule) this.entry.dryRunRule = wouldBe.rule;
  }

  /** Records list items the full policy would have removed, under dry run. */
  countDryRunRemoved(removed: number): void {
    if (removed > 0) this.entry.dryRunListItemsRemoved = (this.entry.dryRunListItemsRemoved ?? 0) + removed;
  }

  /** Writes the line once; later calls do nothing. */
  write(status: number): void {
    if (this.written) return;
    this.written = true;
    this.entry.status = status;
    this.entry.durationMs = Math.round((performance.now() - this.startedAt) * 100) / 100;
    const fields = this.entry as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields)) if (typeof value === "string") fields[key] = capped(value);
    const level = status >= 500 ? "error" : status >= 400 || this.entry.decision === "denied" ? "warn" : "info";
    const { reason, decision } = this.entry;
    const message = !reason
      ? "request"
      : status >= 500
        ? `request failed: ${reason}`
        : status >= 400 || decision === "denied"
          ? `request refused: ${reason}`
          : `request ended: ${reason}`;
    this.logger[level](message, { ...this.entry });
    this.metrics.requestCompleted(this.entry);
  }
}
