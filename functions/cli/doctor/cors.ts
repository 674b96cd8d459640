/**
 * Check 4, without a token: whether a browser-based MCP client (the MCP Inspector runs at http://localhost:6274) at a
 * given origin may talk to the endpoint. Its requests carry Authorization and a JSON Content-Type, so the browser
 * asks first (a CORS preflight); then it must be let read the headers MCP needs from the answers (Mcp-Session-Id, and
 * WWW-Authenticate to find where to sign in) and the metadata document. Desktop and IDE clients send no preflight, so
 * a refusal here is a warning: it leaves out browser clients at this origin only.
 */
import { describeAnswer, type ObservedFetch } from "./observed-fetch.js";
import type { Finding } from "./report.js";

/** The headers the MCP SDK's Streamable HTTP client sends that a browser must have allowed by a preflight. */
const REQUESTED_HEADERS = ["Authorization", "Content-Type", "Mcp-Protocol-Version", "Mcp-Session-Id"];
/** The response headers a browser client must read (the others it reads are safelisted). */
const NEEDED_EXPOSED = ["Mcp-Session-Id", "WWW-Authenticate"];

function listed(header: string | null | undefined): string[] {
  return (header ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
}

/** Whether a preflight's Access-Control-Allow-Headers lets `name` through (`*` does, except for Authorization). */
function allowsHeader(allowed: string[], name: string): boolean {
  const lower = name.toLowerCase();
  return allowed.includes(lower) || (allowed.includes("*") && lower !== "authorization");
}

function allowsOrigin(headers: Headers | undefined, origin: string): boolean {
  const allowed = headers?.get("access-control-allow-origin");
  return allowed === origin || allowed === "*";
}

export async function checkCors(endpoint: URL, origin: string, metadataUrl: URL | undefined, http: ObservedFetch): Promise<Finding> {
  const check = `CORS for ${origin}`;
  const refused = `browser-based clients at ${origin} cannot connect (desktop and IDE clients are not affected)`;
  const fix = `add ${origin} to CORS_ALLOWED_ORIGINS (in CDK: -c corsAllowedOrigins=${origin}).`;

  const preflight = await http
    .fetch(endpoint, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": REQUESTED_HEADERS.join(", ").toLowerCase() },
    })
    .catch(() => undefined);
  if (!preflight) return { level: "warn", check, seen: `the preflight got no answer (${http.last(endpoint, "OPTIONS")?.error ?? "no answer"}): ${refused}.` };
  await preflight.body?.cancel();
  if (preflight.status >= 300 || !allowsOrigin(preflight.headers, origin)) {
    const why = preflight.headers.get("access-control-allow-origin") === null ? "without Access-Control-Allow-Origin" : `allowing ${preflight.headers.get("access-control-allow-origin")} only`;
    const answer = describeAnswer(http.last(endpoint, "OPTIONS"));
    return { level: "warn", check, seen: `the preflight was answered ${answer}, ${why}: ${refused}.`, fix };
  }
  const allowedHeaders = listed(preflight.headers.get("access-control-allow-headers"));
  const notAllowed = REQUESTED_HEADERS.filter((name) => !allowsHeader(allowedHeaders, name));
  if (notAllowed.length > 0) {
    return { level: "warn", check, seen: `the preflight does not allow ${notAllowed.join(", ")}: ${refused}.`, fix: "let the gateway answer preflights (nothing in front of it should)." };
  }

  // What the browser may read of a real answer: the tokenless 401 every sign-in starts with.
  const answer = await http.fetch(endpoint, { method: "POST", headers: { origin, "content-type": "application/json" }, body: "{}" }).catch(() => undefined);
  await answer?.body?.cancel();
  const exposed = listed(answer?.headers.get("access-control-expose-headers"));
  const hidden = NEEDED_EXPOSED.filter((name) => !exposed.includes(name.toLowerCase()) && !exposed.includes("*"));
  const unreadable = !allowsOrigin(answer?.headers, origin) ? ["its answers (no Access-Control-Allow-Origin on them)"] : hidden.length > 0 ? [hidden.join(", ")] : [];

  if (metadataUrl) {
    const metadata = await http.fetch(metadataUrl, { headers: { origin } }).catch(() => undefined);
    await metadata?.body?.cancel();
    if (metadata && !allowsOrigin(metadata.headers, origin)) unreadable.push(`the metadata document at ${metadataUrl.href}`);
  }
  if (unreadable.length > 0) {
    return { level: "warn", check, seen: `the preflight is allowed, but a browser there cannot read ${unreadable.join(", or ")}: browser-based clients cannot sign in.`, fix };
  }
  return {
    level: "ok",
    check,
    seen: `the preflight allows ${REQUESTED_HEADERS.join(", ")}; answers expose ${NEEDED_EXPOSED.join(", ")}${metadataUrl ? "; the metadata document is readable" : ""}`,
  };
}
