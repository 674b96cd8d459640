/**
 * CORS for browser-based MCP clients, answered before authentication (a preflight never carries a token). Only the
 * configured origins get CORS headers; responses expose the headers an MCP client must read (Mcp-Session-Id,
 * Mcp-Protocol-Version, WWW-Authenticate for sign-in).
 */
const ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS";
const ALLOWED_HEADERS = "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name";
const EXPOSED_HEADERS = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate";
/** How long a browser may reuse a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = "600";

/** The `Mcp-Param-*` headers a preflight asks for (their names depend on each tool, so they cannot be listed ahead). */
function requestedParamHeaders(request: Request): string[] {
  const requested = request.headers.get("access-control-request-headers") ?? "";
  return requested.split(",").map((name) => name.trim()).filter((name) => /^mcp-param-[A-Za-z0-9!#$%&'*+.^_`|~-]+$/i.test(name));
}

export class Cors {
  private readonly anyOrigin: boolean;
  private readonly origins: ReadonlySet<string>;

  constructor(allowedOrigins: readonly string[]) {
    this.anyOrigin = allowedOrigins.includes("*");
    this.origins = new Set(allowedOrigins);
  }

  /** The request's Origin when CORS headers may be given to it. */
  private allowedOrigin(request: Request): string | undefined {
    const origin = request.headers.get("origin");
    if (origin === null) return undefined;
    return this.anyOrigin || this.origins.has(origin) ? origin : undefined;
  }

  /** The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method), or undefined for other requests. */
  preflight(request: Request): Response | undefined {
    if (request.method !== "OPTIONS" || !request.headers.has("access-control-request-method")) return undefined;
    const origin = this.allowedOrigin(request);
    const headers = new Headers({ vary: "Origin" });
    if (origin) {
      headers.set("access-control-allow-origin", origin);
      headers.set("access-control-allow-methods", ALLOWED_METHODS);
      headers.set("access-control-allow-headers", [ALLOWED_HEADERS, ...requestedParamHeaders(request)].join(", "));
      headers.set("access-control-max-age", PREFLIGHT_MAX_AGE);
    }
    // Without the allow headers the browser refuses the real request: nothing else needs saying.
    return new Response(null, { status: 204, headers });
  }

  /** Adds the CORS headers a response to an allowed origin needs. */
  decorate(request: Request, response: Response): Response {
    const origin = this.allowedOrigin(request);
    if (!origin) return response;
    response.headers.set("access-control-allow-origin", origin);
    response.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    addVaryOrigin(response.headers);
    return response;
  }
}

/**
 * Adds Origin to Vary unless it is there already: the preflight answer names it itself, and a backend's response may
 * too; `Vary: Origin, Origin` says nothing more, and some caches compare the header's text.
 */
function addVaryOrigin(headers: Headers): void {
  const listed = (headers.get("vary") ?? "").split(",").map((name) => name.trim().toLowerCase());
  if (!listed.includes("origin") && !listed.includes("*")) headers.append("vary", "Origin");
}
