/**
 * Resource URIs that are never allowed, whatever the policy says, because a backend may resolve them to something
 * other than the string the policy matched.
 *
 * - Dot segments: `docs://public/../internal/roadmap` matches the pattern `docs://public/*` and is served as
 *   `docs://internal/roadmap`. A URI with dot segments (`.` or `..`, percent-encoded or not, with `/` or `\` as
 *   separator) is refused.
 * - Control characters (C0, DEL, C1), whitespace (any Unicode White_Space) and backslashes: WHATWG URL parsing, which
 *   the MCP SDK servers use to look resources up, drops tab, CR and LF anywhere (`file:///public/.<TAB>./secret` is
 *   `file:///secret`), trims leading and trailing C0 controls and spaces, and reads `\` as `/` in http, https, ws,
 *   wss, ftp and file URIs; other parsers trim or split on other whitespace. No real resource URI needs any of them
 *   unencoded (RFC 3986 has them percent-encoded), so they are refused rather than guessed at.
 */
import { percentDecoded } from "./percent-decoding.js";

const DOT_SEGMENT = /(^|[/\\])\.{1,2}([/\\?#]|$)/;

/** Dot segments in the URI as written or once percent-decoded (leniently: a malformed escape elsewhere does not hide them). */
export function hasDotSegment(uri: string): boolean {
  if (DOT_SEGMENT.test(uri)) return true;
  const decoded = percentDecoded(uri);
  return decoded !== uri && DOT_SEGMENT.test(decoded);
}

/** \p{Cc} is C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F); \p{White_Space} is Unicode's property. */
const REFUSED_CHARACTER = /[\p{Cc}\p{White_Space}\\]/u;

/**
 * The first control character, whitespace or backslash in `uri`, described for a policy admin (`U+0009 at offset
 * 16`); undefined when it has none.
 */
export function refusedCharacter(uri: string): string | undefined {
  const found = REFUSED_CHARACTER.exec(uri);
  if (!found) return undefined;
  const code = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  return `U+${code} at offset ${found.index}`;
}
