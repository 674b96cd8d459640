/** Reads the caller's bearer token from the Authorization header (RFC 6750 §2.1), the only place it is accepted. */
import { AuthenticationError } from "../errors.js";

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Returns the token, or throws AuthenticationError saying precisely why there is none.
 * @param url the request's URL, already parsed (the access log parses it once per request).
 */
export function extractBearerToken(request: Request, url: URL): string {
  if (url.searchParams.has("access_token")) {
    // RFC 6750 §2.3 and the MCP authorization spec: tokens in query strings leak into logs and are not accepted.
    throw new AuthenticationError("bearer token sent in the query string, which is not accepted", true);
  }
  const header = request.headers.get("authorization");
  if (header === null) throw new AuthenticationError("no bearer token found", false);
  const match = BEARER.exec(header);
  if (!match?.[1]) {
    // Several Authorization headers arrive joined by ", " and fail here too, as they should.
    throw new AuthenticationError("Authorization header is not a single 'Bearer <token>'", true);
  }
  return match[1];
}
