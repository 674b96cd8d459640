/**
 * The caller's identity as request headers for the backend (BACKEND_IDENTITY_HEADERS), instead of the token, which
 * the gateway never passes on. Only configured claims are sent; a claim the token lacks sends no header. The gateway
 * sets these headers itself after verifying the token, and clients' own headers never reach the backend unchosen
 * (only MCP headers are forwarded), so a backend can trust them as far as it trusts the gateway.
 */
import { readClaim } from "../auth/identity.js";
import type { Identity } from "../policy/types.js";

/** A claim value as header text: lists joined with commas, objects as JSON, anything non-ASCII percent-encoded. */
function headerText(value: unknown): string {
  const text = Array.isArray(value) ? value.map((v) => (typeof v === "string" ? v : JSON.stringify(v))).join(",") : typeof value === "string" ? value : JSON.stringify(value);
  return /^[\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text);
}

export function identityHeaders(mapping: ReadonlyArray<{ header: string; claim: string }>, identity: Identity): Array<[string, string]> {
  return mapping.flatMap(({ header, claim }) => {
    const value = readClaim(identity.claims, claim);
    return value === undefined || value === null ? [] : [[header, headerText(value)] as [string, string]];
  });
}
