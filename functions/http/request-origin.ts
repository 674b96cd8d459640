/**
 * DNS-rebinding protection, which MCP requires of servers: a web page must not reach the gateway by pointing its own
 * domain at the gateway's address. Checked before anything else, CORS preflights included.
 *
 * - `Host` must be one the gateway answers to (`ALLOWED_HOSTS`), when a list is configured.
 * - `Origin`, when a browser sends one, must be the gateway's own origin (that of the request URL, whose host passed
 *   the first check, or of `PUBLIC_URL`) or one of `CORS_ALLOWED_ORIGINS`. Clients that are not browsers send none.
 */
import type { GatewayConfig } from "../config/gateway-config.js";
import { ForbiddenOriginError } from "../errors.js";

export class RequestOriginCheck {
  private readonly anyOrigin: boolean;
  private readonly origins: ReadonlySet<string>;
  private readonly hosts: ReadonlySet<string> | undefined;

  constructor(config: Pick<GatewayConfig, "corsAllowedOrigins" | "publicUrl" | "allowedHosts">) {
    this.anyOrigin = config.corsAllowedOrigins.includes("*");
    this.origins = new Set([...config.corsAllowedOrigins, ...(config.publicUrl ? [config.publicUrl.origin] : [])]);
    this.hosts = config.allowedHosts && new Set(config.allowedHosts);
  }

  /** Throws ForbiddenOriginError (403) when the request's Host or Origin is not allowed. */
  check(request: Request, url: URL): void {
    if (this.hosts && !this.hosts.has(url.host) && !this.hosts.has(url.hostname)) {
      throw new ForbiddenOriginError("Host", `Host ${JSON.stringify(url.host)} is not in ALLOWED_HOSTS`);
    }
    const origin = request.headers.get("origin");
    if (origin === null || this.anyOrigin || this.origins.has(origin) || origin === url.origin) return;
    throw new ForbiddenOriginError("Origin", `Origin ${JSON.stringify(origin)} is neither the gateway's own nor in CORS_ALLOWED_ORIGINS`);
  }
}
