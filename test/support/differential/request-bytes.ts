/**
 * Requests as bytes on the wire, for the differential tests: Content-Type spellings that parsers read differently,
 * bodies that read differently in UTF-8 and in another charset, Content-Encoding headers, and a sender that writes
 * exactly those bytes with the framing asked for (Content-Length, or chunked in chosen pieces) over node:http.
 *
 * Also the readings of the target behaviour that decide what the gateway must do with them: which labels it accepts
 * (parsed with jshttp's `content-type`, as express parses them), and which readings of a resource URI exist.
 */
import { request as httpRequest } from "node:http";
import { gzipSync, deflateSync, brotliCompressSync } from "node:zlib";
import { parse as parseContentType } from "content-type";
import fc from "fast-check";
import iconv from "iconv-lite";

// ---------------------------------------------------------------------------------------------------------------
// Content-Type
// ---------------------------------------------------------------------------------------------------------------

/** Charset names: UTF-8's own spellings, and others a body parser would decode with (aliases included). */
export const UTF8_CHARSETS = ["utf-8", "UTF-8", "utf8", "Utf-8", "UTF8"] as const;
export const OTHER_CHARSETS = [
  "utf-7",
  "UTF-7",
  "utf7",
  "unicode-1-1-utf-7",
  "csUnicode11UTF7",
  "utf-16",
  "utf-16le",
  "UTF-16BE",
  "utf-32",
  "latin1",
  "iso-8859-1",
  "windows-1252",
  "us-ascii",
  "ucs-2",
  "binary",
  "",
] as const;

/** One parameter of the label, as written (the separator before it included). */
const separatorArb = fc.constantFrom(";", "; ", " ; ", "\t;", ";\t");
const equalsArb = fc.oneof({ weight: 3, arbitrary: fc.constant("=") }, { weight: 4, arbitrary: fc.constantFrom(" =", "= ", " = ", "\t=", "=\t", " \t= ") });
const charsetNameArb = fc.constantFrom("charset", "Charset", "CHARSET");
/** A charset value as written: a token, quoted, or quoted with quoted-pair escapes. */
function charsetValueArb(names: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(names, fc.constantFrom("token", "quoted", "escaped"))
    .map(([name, form]) => (form === "token" ? name : form === "quoted" ? `"${name}"` : `"${name.replace(/-/g, "\\-")}"`));
}
function charsetParameterArb(names: fc.Arbitrary<string>, equals: fc.Arbitrary<string> = equalsArb): fc.Arbitrary<string> {
  return fc.tuple(charsetNameArb, equals, charsetValueArb(names)).map(([name, sign, value]) => `${name}${sign}${value}`);
}
/** Spaces alone around `=`: what express 4's parser (spaces, never tabs) and express 5's both read as a charset. */
const spacedEqualsArb = fc.oneof(equalsArb, fc.constantFrom(" =", "= ", " = "));
/** Parameters that are not a charset, some carrying one inside a quoted value. */
const otherParameterArb = fc.constantFrom(
  "q=0.5",
  "boundary=abc",
  'x="a;charset=utf-8"',
  'x=";charset=utf-7"',
  'x="\\";charset=utf-7"',
  "profile=mcp",
  "charset",
  "",
);

/** Labels whose charset parameters name one of `names`; with `insist`, at least one such parameter is there. */
export function contentTypeArb(names: fc.Arbitrary<string>, insist = false): fc.Arbitrary<string> {
  const parameter = fc.tuple(separatorArb, fc.oneof({ weight: 3, arbitrary: charsetParameterArb(names) }, { weight: 2, arbitrary: otherParameterArb }));
  return fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constant("application/json") }, { weight: 1, arbitrary: fc.constantFrom("Application/JSON", "APPLICATION/JSON", "application/json ") }),
      fc.array(parameter, { maxLength: 3 }),
      insist ? fc.tuple(separatorArb, charsetParameterArb(names, spacedEqualsArb), fc.nat()).map((required) => [required]) : fc.constant([]),
    )
    .map(([type, parameters, required]) => {
      const all = [...parameters];
      for (const [separator, value, at] of required) all.splice(at % (all.length + 1), 0, [separator, value]);
      return type + all.map(([separator, value]) => separator + value).join("");
    });
}

/** Any charset, UTF-8 or another. */
export const anyCharsetArb = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...UTF8_CHARSETS) }, { weight: 3, arbitrary: fc.constantFrom(...OTHER_CHARSETS) });
/** UTF-7's names, with UTF-8's (a repeated charset may name both). */
export const utf7CharsetArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom("utf-7", "UTF-7", "utf7") }, { weight: 1, arbitrary: fc.constantFrom(...UTF8_CHARSETS) });

/**
 * The target: the label parses (jshttp `content-type`) as application/json, with no charset or UTF-8 (`utf-8`,
 * `utf8`, any case), and names `charset` at most once.
 */
export function acceptedContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  let parsed: { type: string; parameters: Record<string, string> };
  try {
    parsed = parseContentType(header);
  } catch {
    return false;
  }
  if (parsed.type !== "application/json") return false;
  if (header.toLowerCase().split("charset").length > 2) return false;
  const charset = parsed.parameters.charset;
  return charset === undefined || ["utf-8", "utf8"].includes(charset.toLowerCase());
}

// ---------------------------------------------------------------------------------------------------------------
// Content-Encoding
// ---------------------------------------------------------------------------------------------------------------

export interface ContentCoding {
  /** The header, or undefined for none. */
  header: string | undefined;
  /** Whether the body is really compressed with it. */
  applied: boolean;
}

export const contentCodingArb: fc.Arbitrary<ContentCoding> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ header: undefined, applied: false }) },
  { weight: 1, arbitrary: fc.constant({ header: "identity", applied: false }) },
  { weight: 3, arbitrary: fc.record({ header: fc.constantFrom("gzip", "deflate", "br", "GZIP", "x-gzip", "gzip, identity", "identity, gzip", "zstd", "compress"), applied: fc.boolean() }) },
);

/** The target: no Content-Encoding, or `identity`. Anything else is 415. */
export function acceptedContentCoding(coding: ContentCoding): boolean {
  return coding.header === undefined || coding.header === "identity";
}

function compress(body: Buffer, coding: string): Buffer {
  const first = coding.split(",")[0]!.trim().toLowerCase();
  if (first === "gzip" || first === "x-gzip") return gzipSync(body);
  if (first === "deflate") return deflateSync(body);
  if (first === "br") return brotliCompressSync(body);
  return body;
}

// ---------------------------------------------------------------------------------------------------------------
// Body encodings
// ---------------------------------------------------------------------------------------------------------------

/**
 * How the JSON text becomes bytes: UTF-8 (optionally after a byte-order mark), or UTF-16, Latin-1 or UTF-7 bytes of
 * the same text (which the gateway, reading UTF-8, cannot read as the same JSON, if at all).
 */
export type BodyEncoding = "utf-8" | "utf-8 bom" | "utf-16le" | "utf-16le bom" | "utf-16be bom" | "latin1" | "utf-7";

export const bodyEncodingArb: fc.Arbitrary<BodyEncoding> = fc.oneof(
  { weight: 8, arbitrary: fc.constant("utf-8" as const) },
  { weight: 2, arbitrary: fc.constant("utf-8 bom" as const) },
  { weight: 3, arbitrary: fc.constantFrom("utf-16le" as const, "utf-16le bom" as const, "utf-16be bom" as const, "latin1" as const, "utf-7" as const) },
);

export function encodeText(text: string, encoding: BodyEncoding): Buffer {
  switch (encoding) {
    case "utf-8":
      return Buffer.from(text, "utf8");
    case "utf-8 bom":
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, "utf8")]);
    case "utf-16le":
      return iconv.encode(text, "utf-16le");
    case "utf-16le bom":
      return iconv.encode(text, "utf-16le", { addBOM: true });
    case "utf-16be bom":
      return iconv.encode(text, "utf-16be", { addBOM: true });
    case "latin1":
      return iconv.encode(text, "latin1");
    case "utf-7":
      return iconv.encode(text, "utf7");
  }
}

/**
 * A body that is one JSON-RPC message in UTF-8 and another in UTF-7: `visible(E)` is the UTF-8 text, with E the UTF-7
 * spelling of `hidden`'s tail inside one of its strings. UTF-7 leaves the ASCII of the visible text as it is and
 * decodes E to characters that close that string and append the hidden message's `method` and `params`, which a
 * last-occurrence parser then takes over the visible ones. `hiddenTail` must end inside a string three levels deep
 * (root, params, one more object) so the visible text's closing `"}}}` closes it.
 */
export function utf7Polyglot(id: number, hiddenTail: string): { bytes: Buffer; visible: string; hidden: string } {
  const head = `{"jsonrpc":"2.0","id":${id},"method":"ping","params":{"_":{"_":"`;
  const tail = '"}}}';
  const encoded = iconv.encode(`"}}${hiddenTail}`, "utf7").toString("latin1");
  const visible = `${head}${encoded}${tail}`;
  return { bytes: Buffer.from(visible, "latin1"), visible, hidden: iconv.decode(Buffer.from(visible, "latin1"), "utf7") };
}

// ---------------------------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------------------------

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Cuts bytes into pieces at the given fractions of their length (multi-byte characters may be cut too). */
export function cutAt(bytes: Buffer, fractions: readonly number[]): Buffer[] {
  const offsets = [...new Set(fractions.map((f) => Math.floor(f * bytes.length)))].filter((o) => o > 0 && o < bytes.length).sort((a, b) => a - b);
  return [0, ...offsets].map((start, i) => bytes.subarray(start, offsets[i] ?? bytes.length));
}

/** The body as it goes on the wire under this coding: compressed when the coding is really applied. */
export function codedBytes(bytes: Buffer, coding: ContentCoding): Buffer {
  return coding.header !== undefined && coding.applied ? compress(bytes, coding.header) : bytes;
}

/**
 * POSTs `bytes` to `url` with exactly these header values: with Content-Length, or chunked, cut at the given
 * fractions of its length.
 */
export function postBytes(url: string, headers: Record<string, string>, bytes: Buffer, chunkedAt: number[] | undefined): Promise<RawAnswer> {
  const target = new URL(url);
  const framing: Record<string, string> = chunkedAt === undefined ? { "content-length": String(bytes.length) } : { "transfer-encoding": "chunked" };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers: { ...headers, ...framing } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    if (chunkedAt === undefined) {
      req.end(bytes);
      return;
    }
    const chunks = cutAt(bytes, chunkedAt);
    for (const chunk of chunks.slice(0, -1)) req.write(chunk);
    req.end(chunks[chunks.length - 1]);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Resource URIs
// ---------------------------------------------------------------------------------------------------------------

/** Characters the target refuses in a resource URI outright: C0 controls, DEL, space, backslash. */
export const REFUSED_URI_CHARACTER = /[\u0000-\u0020\u007f\\]/;

function href(uri: string): string | undefined {
  try {
    return new URL(uri).href;
  } catch {
    return undefined;
  }
}

function percentDecoded(uri: string): string | undefined {
  try {
    return decodeURIComponent(uri);
  } catch {
    return undefined;
  }
}

/**
 * The readings of a resource URI a backend may act on: as sent, as WHATWG URL parsing resolves it (what the MCP SDKs
 * look resources up by), percent-decoded, and their combinations.
 */
export function uriReadings(uri: string): string[] {
  const readings = new Set<string>([uri]);
  for (const first of [href, percentDecoded]) {
    const once = first(uri);
    if (once === undefined) continue;
    readings.add(once);
    for (const second of [href, percentDecoded]) {
      const twice = second(once);
      if (twice !== undefined) readings.add(twice);
    }
  }
  return [...readings];
}

/** What an SDK server resolves the URI to (`new URL(uri).href`), or undefined when it cannot parse it. */
export function resolvedUri(uri: string): string | undefined {
  return href(uri);
}
