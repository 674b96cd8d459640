/**
 * Percent-decoding as a lenient backend does it, for judging resource URIs (resource-uri.ts, resource-readings.ts):
 * the URL standard's percent-decode (each `%XX` becomes its byte; a `%` without two hex digits stays as it is), the
 * bytes then read as UTF-8 with U+FFFD for what is not UTF-8. Python's `unquote` and Node's `querystring.unescape`
 * read URIs so; strict decoders (`decodeURIComponent`) refuse a malformed one outright, and agree with this on every
 * URI they accept. Deciding on the lenient reading covers both.
 */
const PERCENT_ESCAPE = /%[0-9A-Fa-f]{2}/;
const utf8 = new TextEncoder();
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** `uri` percent-decoded; `uri` itself when it has no escape. */
export function percentDecoded(uri: string): string {
  if (!PERCENT_ESCAPE.test(uri)) return uri;
  try {
    // The common case, natively: well-formed escapes of UTF-8 decode the same either way.
    return decodeURIComponent(uri);
  } catch {
    const bytes = utf8.encode(uri);
    const out = new Uint8Array(bytes.length);
    let length = 0;
    for (let i = 0; i < bytes.length; i++) {
      const high = bytes[i] === 0x25 && i + 2 < bytes.length ? hexValue(bytes[i + 1]!) : -1;
      const low = high < 0 ? -1 : hexValue(bytes[i + 2]!);
      if (low < 0) {
        out[length++] = bytes[i]!;
      } else {
        out[length++] = high * 16 + low;
        i += 2;
      }
    }
    return lenientUtf8.decode(out.subarray(0, length));
  }
}
