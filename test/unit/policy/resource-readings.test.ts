/**
 * The readings a backend may make of a resource URI (functions/policy/resource-readings.ts), and the shortcut that
 * skips them: every URI it takes for canonical must be one WHATWG serialises as it is and decoding leaves alone.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { percentDecoded } from "../../../functions/policy/percent-decoding.js";
import { isCanonicalUri, resourceReadings } from "../../../functions/policy/resource-readings.js";

const readingsOf = (uri: string) => resourceReadings(uri).map(({ how, uri: read }) => [how, read]);

describe("resourceReadings", () => {
  it.each(["file:///public/a", "docs://public/readme", "https://example.com/docs/a?page=2#top", "urn-like://Host.Name/x"])(
    "has one reading for %j, already in the form every backend reads",
    (uri) => {
      expect(readingsOf(uri)).toEqual([["as sent", uri]]);
    },
  );

  it.each([
    ["FILE:///secret", "file:///secret"],
    ["File:///secret", "file:///secret"],
    ["file://LOCALHOST/secret", "file:///secret"],
    ["file://localhost/secret", "file:///secret"],
    ["file:/secret", "file:///secret"],
    ["file:secret", "file:///secret"],
    ["file:///public/%2e%2e/secret", "file:///secret"],
    ["file:///public/%2E./secret", "file:///secret"],
    ["HTTPS://EXAMPLE.com:443/admin", "https://example.com/admin"],
    ["docs://public/{name}", "docs://public/%7Bname%7D"],
  ])("reads %j WHATWG-normalised as %j, as the SDK servers look it up", (uri, normalised) => {
    expect(readingsOf(uri)).toContainEqual(["WHATWG-normalised", normalised]);
    expect(new URL(uri).href).toBe(normalised);
  });

  it("reads a percent-encoded URI decoded, and in both orders with WHATWG", () => {
    expect(readingsOf("FILE:///secre%74")).toEqual([
      ["as sent", "FILE:///secre%74"],
      ["WHATWG-normalised", "file:///secre%74"],
      ["percent-decoded", "FILE:///secret"],
      ["percent-decoded, then WHATWG-normalised", "file:///secret"],
    ]);
    // Double-encoded dot segments are dot segments once decoded, and resolved by WHATWG after that.
    expect(readingsOf("file:///public/%252e%252e/secret")).toContainEqual(["percent-decoded, then WHATWG-normalised", "file:///secret"]);
    // WHATWG encodes what decoding then restores, so the two orders differ; WHATWG then decoded is the decoded
    // reading again, listed once.
    expect(readingsOf("docs://public/{x}%41")).toEqual([
      ["as sent", "docs://public/{x}%41"],
      ["WHATWG-normalised", "docs://public/%7Bx%7D%41"],
      ["percent-decoded", "docs://public/{x}A"],
      ["percent-decoded, then WHATWG-normalised", "docs://public/%7Bx%7DA"],
    ]);
    // And WHATWG then decoded is a reading of its own where WHATWG changed what decoding keeps (the scheme's case).
    expect(readingsOf("FILE:///caf%C3%A9")).toEqual([
      ["as sent", "FILE:///caf%C3%A9"],
      ["WHATWG-normalised", "file:///caf%C3%A9"],
      ["percent-decoded", "FILE:///caf\u00e9"],
      ["WHATWG-normalised, then percent-decoded", "file:///caf\u00e9"],
    ]);
  });

  it("gives a URI WHATWG cannot parse no WHATWG reading", () => {
    expect(readingsOf("not a uri")).toEqual([["as sent", "not a uri"]]);
    expect(readingsOf("%2e%2e/secret")).toEqual([
      ["as sent", "%2e%2e/secret"],
      ["percent-decoded", "../secret"],
    ]);
  });

  it("lists each distinct reading once, the URI as sent first", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 24 }), (uri) => {
        const readings = resourceReadings(uri).map((reading) => reading.uri);
        expect(readings[0]).toBe(uri);
        expect(new Set(readings).size).toBe(readings.length);
      }),
    );
  });
});

describe("percentDecoded", () => {
  it("decodes as decodeURIComponent does whenever that succeeds", () => {
    const escaped = fc.string({ unit: "binary", maxLength: 12 }).map((text) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "x")));
    fc.assert(
      fc.property(fc.array(fc.oneof(escaped, fc.string({ maxLength: 4 })), { maxLength: 4 }), (parts) => {
        const uri = parts.join("");
        let strict: string | undefined;
        try {
          strict = decodeURIComponent(uri);
        } catch {
          return;
        }
        expect(percentDecoded(uri)).toBe(strict);
      }),
    );
  });

  it("decodes what it can of a malformed URI, as lenient decoders do (U+FFFD for bytes that are not UTF-8)", () => {
    expect(percentDecoded("docs://a/%73ecret%")).toBe("docs://a/secret%");
    expect(percentDecoded("docs://a/%73ecret%zz")).toBe("docs://a/secret%zz");
    expect(percentDecoded("docs://a/%E9t%C3%A9")).toBe("docs://a/\ufffdt\u00e9");
    expect(percentDecoded("docs://a/100%")).toBe("docs://a/100%");
  });
});

describe("isCanonicalUri: the readings skipped only when they cannot differ", () => {
  /** Strings close to the shape it accepts: schemes, hosts and path pieces, and the characters that break it. */
  const pieceArb = fc.constantFrom(
    "a", "Z", "0", "9", "-", ".", "..", "_", "~", "!", "$", "&", "'", "(", "*", "+", ",", ";", "=", ":", "@", "/", "//", "?", "#",
    "%", "%2e", "%41", "xn--", "xn--nxasmq6b", "localhost", "LOCALHOST", "C:", "c|", "{", "}", "[", "]", "|", "^", "`", '"', "<", ">",
    " ", "\t", "\\", "\u00e9", "\u0130", "0x7f", "1.2.3.4", "01", ":80", ":443", "\u00ad",
  );
  const uriArb = fc
    .tuple(
      fc.constantFrom("file:", "http:", "https:", "ws:", "wss:", "ftp:", "docs:", "a+b.c-d:", "FILE:", "Docs:", "https2:", "x:"),
      fc.constantFrom("", "/", "//", "///", "////"),
      fc.array(pieceArb, { maxLength: 10 }),
    )
    .map(([scheme, slashes, pieces]) => scheme + slashes + pieces.join(""));

  it("accepts only URIs that WHATWG serialises as they are and that decoding leaves alone", () => {
    let accepted = 0;
    fc.assert(
      fc.property(uriArb, (uri) => {
        if (!isCanonicalUri(uri)) return;
        accepted++;
        expect(new URL(uri).href).toBe(uri);
        expect(percentDecoded(uri)).toBe(uri);
      }),
      { numRuns: 20_000 },
    );
    // The shortcut must also be taken: a test of an empty set would prove nothing.
    expect(accepted).toBeGreaterThan(500);
  });

  it.each([
    "FILE:///a", "file://localhost/a", "file://host/a", "file:/a", "http://example.com", "http://1.2.3.4/", "http://EXAMPLE.com/",
    "http://xn--nxasmq6b.com/", "http://example.com:80/", "docs://h:1/x", "docs://public/%41", "docs://public/{name}", "docs://public/a b",
    "docs://public/caf\u00e9", "docs://u@h/x",
  ])("sends %j the long way", (uri) => {
    expect(isCanonicalUri(uri)).toBe(false);
  });
});
