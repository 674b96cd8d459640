/**
 * The readings a backend may make of a resource URI: the strings it may look the resource up by. A policy matches
 * strings, a backend resolves URIs, and the two differ: the MCP SDK servers (v1 `McpServer`, v2
 * `@modelcontextprotocol/server`) do `new URL(params.uri)` and match `uri.toString()` against their resources and
 * templates, so `FILE:///secret`, `file://localhost/secret`, `file:/secret` and `file:///public/%2e%2e/secret` are
 * all served as `file:///secret`; other servers percent-decode the URI before matching it. A resource is allowed
 * only when every reading is (decide.ts); these are the readings:
 *
 * 1. as sent: a backend that matches the string itself;
 * 2. WHATWG-normalised (`new URL(uri).href`): the SDK servers. Scheme and host lower-cased, `file://localhost/` read
 *    as `file:///`, dot segments resolved (`%2e` too), default ports dropped, characters outside the URL code points
 *    percent-encoded. A URI WHATWG cannot parse has no such reading (a WHATWG backend refuses it);
 * 3. percent-decoded: a backend that decodes the URI and matches the text;
 * 4. percent-decoded, then WHATWG-normalised: one that decodes, then parses (`%2e%2e` spelt `%252e%252e`, an
 *    upper-case scheme with escaped path characters);
 * 5. WHATWG-normalised, then percent-decoded: one that parses, then decodes the serialised URI or its path.
 *
 * Percent-decoding is the lenient one of percent-decoding.ts (strict decoders refuse what it decodes leniently).
 * One decoding only: a backend that decodes twice is covered for dot segments (resource-uri.ts decodes every reading
 * once more) but not otherwise.
 *
 * Most URIs are already in the one form all five readings share; for them the extra readings are skipped without
 * parsing anything (see CANONICAL below), so the policy is evaluated once, as before.
 */

import { percentDecoded } from "./percent-decoding.js";

/** How a backend reads the URI, as a policy admin reads it in an explanation. */
export type ReadingName =
  | "as sent"
  | "WHATWG-normalised"
  | "percent-decoded"
  | "percent-decoded, then WHATWG-normalised"
  | "WHATWG-normalised, then percent-decoded";

export interface Reading {
  how: ReadingName;
  /** The URI the backend then looks up. */
  uri: string;
}

/** Characters a path, query or fragment keeps under WHATWG serialisation (no `%`, so decoding changes nothing). */
const KEPT = "A-Za-z0-9\\-._~!$&()*+,;=:@";
/** A path segment of those characters, but not `.` or `..` (which WHATWG resolves). */
const SEGMENT = `(?!\\.\\.?(?:[/?#]|$))[${KEPT}]*`;
const QUERY_AND_FRAGMENT = `(?:\\?[${KEPT}/?]*)?(?:#[${KEPT}/?]*)?`;
/** A host of a special scheme WHATWG keeps as it is: lower-case ASCII labels, the last not numeric (IPv4), no punycode. */
const DOMAIN = "(?:(?!xn--)[a-z0-9-]+\\.)*(?!xn--)[a-z][a-z0-9-]*";

/**
 * URIs whose five readings are all the URI as sent: lower-case scheme, no `%`, only characters WHATWG serialises as
 * they are, and hosts it keeps (none for `file`, which would fold `localhost`; a domain for http, https, ws, wss and
 * ftp, whose path WHATWG would otherwise add; an opaque host, case kept, for other schemes), no port (a default one is
 * dropped), no dot segment (which it resolves). Anything else takes the long way;
 * test/unit/policy/resource-readings.test.ts checks that `new URL(uri).href` is the URI for every URI this accepts.
 */
const CANONICAL = new RegExp(
  `^(?:file://(?:/${SEGMENT})+` +
    `|(?:https?|wss?|ftp)://${DOMAIN}(?:/${SEGMENT})+` +
    `|(?!(?:https?|wss?|ftp|file):)[a-z][a-z0-9+.-]*://[A-Za-z0-9\\-._~!$&()*+,;=]*(?:/${SEGMENT})*` +
    `)${QUERY_AND_FRAGMENT}$`,
);

/** Whether every reading of `uri` is `uri` itself, told without parsing it. */
export function isCanonicalUri(uri: string): boolean {
  return CANONICAL.test(uri);
}

/** `new URL(uri).href`, or undefined when WHATWG cannot parse it (no base: a resource URI is absolute). */
function whatwgNormalised(uri: string): string | undefined {
  try {
    return new URL(uri).href;
  } catch {
    return undefined;
  }
}

/** Adds a reading unless WHATWG could not parse it or an earlier reading is the same string. */
function addReading(readings: Reading[], how: ReadingName, uri: string | undefined): void {
  if (uri !== undefined && !readings.some((reading) => reading.uri === uri)) readings.push({ how, uri });
}

/**
 * Every distinct reading of `uri`, the URI as sent first, in the order of the list above: the first that is refused
 * is the one an explanation names.
 */
export function resourceReadings(uri: string): readonly Reading[] {
  const readings: Reading[] = [{ how: "as sent", uri }];
  if (isCanonicalUri(uri)) return readings;
  const normalised = whatwgNormalised(uri);
  const decoded = percentDecoded(uri);
  addReading(readings, "WHATWG-normalised", normalised);
  addReading(readings, "percent-decoded", decoded);
  if (decoded !== uri) addReading(readings, "percent-decoded, then WHATWG-normalised", whatwgNormalised(decoded));
  // WHATWG often leaves the URI as it was (it only had escapes): its decoding is then the one already made.
  if (normalised !== undefined) addReading(readings, "WHATWG-normalised, then percent-decoded", normalised === uri ? decoded : percentDecoded(normalised));
  return readings;
}
