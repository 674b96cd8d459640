/**
 * Refuses a token whose header has `crit`. RFC 7515 §4.1.11 makes a JWS invalid when `crit` names an extension the
 * recipient does not understand, and the gateway understands none: aws-jwt-verify ignores `crit`, so without this
 * check an issuer's token carrying, say, `b64: false` would be verified as if the extension were not there.
 */

/** The log reason for refusing `header`, or undefined when it has no `crit`. */
export function criticalHeaderRefusal(header: Readonly<Record<string, unknown>>): string | undefined {
  if (!Object.hasOwn(header, "crit")) return undefined;
  return `token header has crit ${JSON.stringify(header.crit)}: the gateway understands no JWS extension (RFC 7515 §4.1.11)`;
}
