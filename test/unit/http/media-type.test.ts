import { describe, expect, it } from "vitest";
import { parseMediaType, readsAsUtf8 } from "../../../functions/http/media-type.js";

describe("media types", () => {
  it.each([
    "application/json",
    "application/json; charset=utf-8",
    "Application/JSON; Charset=UTF-8",
    'application/json; charset="utf-8"',
    "application/json;charset=utf8",
    "application/json; profile=mcp",
    // A quoted value is a value: the charset inside it is none.
    'application/json; x=";charset=utf-7"',
  ])("reads %j as UTF-8 JSON", (header) => {
    const mediaType = parseMediaType(header);
    expect(mediaType.type).toBe("application/json");
    expect(readsAsUtf8(mediaType)).toBe(true);
  });

  // Each of these, forwarded as it came, made a backend built with express decode the body in another charset.
  it.each([
    "application/json; charset=utf-7",
    "application/json; charset = utf-7",
    "application/json;\tcharset\t=\tutf-7",
    "application/json; CHARSET=UTF-16",
    'application/json; charset="iso-8859-1"',
    "application/json; charset=latin1",
    // Named twice: express 5 reads the first, express 4 the last.
    "application/json; charset=utf-8; charset=utf-7",
    "application/json; charset=utf-7; charset=utf-8",
    'application/json; x=";charset=utf-8"; charset=utf-7',
    "application/json; charset=utf-8; charset=utf-8",
  ])("does not read %j as UTF-8", (header) => {
    expect(readsAsUtf8(parseMediaType(header))).toBe(false);
  });

  it("lower-cases the type and reads everything before the first semicolon as it", () => {
    expect(parseMediaType("Text/Event-Stream; charset=utf-8").type).toBe("text/event-stream");
    expect(parseMediaType("application/json, text/plain").type).toBe("application/json, text/plain");
    expect(parseMediaType("").type).toBe("");
  });
});
