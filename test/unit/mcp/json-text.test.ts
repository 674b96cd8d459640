import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, readJson } from "../../../functions/mcp/json-text.js";

const nested = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

describe("readJson", () => {
  it("reads JSON as JSON.parse does, and says when no key is duplicated", () => {
    expect(readJson('{"a":1,"b":{"c":[1,{"d":":"}]}}')).toEqual({ value: { a: 1, b: { c: [1, { d: ":" }] } }, duplicateKeys: false });
    expect(readJson('"a:b"')).toEqual({ value: "a:b", duplicateKeys: false });
  });

  it.each([
    ['{"a":1,"a":2}', { a: 2 }],
    ['{"result":{"tools":[{"name":"x"}]},"result":{}}', { result: {} }],
    ['[{"x":{"name":"a","name":"b"}}]', [{ x: { name: "b" } }]],
    // The same key in two spellings is the same key.
    ['{"name":"a","n\\u0061me":"b"}', { name: "b" }],
    ['{"__proto__":1,"__proto__":2}', JSON.parse('{"__proto__":2}')],
  ])("finds the duplicate key in %s, and reads the last occurrence", (text, value) => {
    expect(readJson(text)).toEqual({ value, duplicateKeys: true });
  });

  it("is not misled by colons, quotes and backslashes inside strings", () => {
    expect(readJson('{"a":"x\\":\\\\","b":"::"}')).toEqual({ value: { a: 'x":\\', b: "::" }, duplicateKeys: false });
    expect(readJson('{"k\\\\":"v","k":"w"}')).toEqual({ value: { "k\\": "v", k: "w" }, duplicateKeys: false });
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels, and takes that deep`, () => {
    expect(readJson(nested(MAX_JSON_DEPTH))).toMatchObject({ duplicateKeys: false });
    expect(readJson(nested(MAX_JSON_DEPTH + 1))).toEqual({ problem: "nested too deeply" });
    expect(readJson(nested(100_000))).toEqual({ problem: "nested too deeply" });
    // Brackets inside strings are text.
    expect(readJson(JSON.stringify("[".repeat(1000)))).toMatchObject({ duplicateKeys: false });
  });

  it("says when the text is not JSON", () => {
    expect(readJson("{")).toEqual({ problem: "not JSON" });
    expect(readJson('{"a":1,}')).toEqual({ problem: "not JSON" });
    expect(readJson("")).toEqual({ problem: "not JSON" });
  });
});
