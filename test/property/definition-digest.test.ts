/**
 * Property: a definition's digest depends on its JSON value alone, not on how the server wrote it: any key order,
 * any whitespace between tokens, any spelling of its numbers and string escapes give the same digest; and any change
 * of a value gives another. The digest is RFC 8785's canonical form (its own number examples), and the one-line node
 * recipe the documentation gives computes the same digest, in another process.
 */
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, definitionDigest } from "../../functions/pins/definition-digest.js";

/** JSON text of `value` with keys in a shuffled order, random whitespace, and strings with escapes of every char. */
function rewritten(value: unknown, random: () => number): string {
  const space = () => [" ", "\n", "\t", "\r\n", "", ""][Math.floor(random() * 6)]!;
  const string = (text: string) => (random() < 0.5 ? JSON.stringify(text) : `"${[...text].map((c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, "0")}`.replace(/^\\u([0-9a-f]{5,})$/, () => JSON.stringify(c).slice(1, -1))).join("")}"`);
  if (typeof value === "string") return string(value);
  if (typeof value === "number") return random() < 0.5 ? String(value) : value.toExponential();
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${space()}${value.map((v) => rewritten(v, random)).join(`${space()},${space()}`)}${space()}]`;
  const keys = Object.keys(value).sort(() => random() - 0.5);
  return `{${space()}${keys.map((k) => `${string(k)}${space()}:${space()}${rewritten((value as Record<string, unknown>)[k], random)}`).join(`,${space()}`)}${space()}}`;
}

const definitionArb = fc.record({
  name: fc.string({ minLength: 1 }),
  description: fc.string({ unit: "grapheme" }),
  inputSchema: fc.jsonValue(),
  annotations: fc.dictionary(fc.string(), fc.jsonValue()),
  _meta: fc.option(fc.dictionary(fc.string(), fc.jsonValue()), { nil: undefined }),
});

describe("the digest of a definition", () => {
  it("is the same whatever the key order, whitespace and spelling of the server's JSON", () => {
    fc.assert(
      fc.property(definitionArb, fc.integer(), (definition, seed) => {
        const value = JSON.parse(JSON.stringify(definition)) as unknown;
        let state = seed;
        const random = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
        const text = rewritten(value, random);
        expect(definitionDigest(JSON.parse(text))).toBe(definitionDigest(value));
      }),
      { numRuns: 300 },
    );
  });

  it("changes when any description changes", () => {
    fc.assert(
      fc.property(definitionArb, fc.string({ minLength: 1 }), (definition, extra) => {
        const value = JSON.parse(JSON.stringify(definition)) as Record<string, unknown>;
        expect(definitionDigest({ ...value, description: `${String(value.description)}${extra}` })).not.toBe(definitionDigest(value));
      }),
    );
  });

  it("serialises as RFC 8785 does (its number examples, sorted keys, no whitespace)", () => {
    const text = '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"b":{"z":1,"a":"\\u00e9\\n"}}';
    expect(canonicalJson(JSON.parse(text))).toBe('{"b":{"a":"é\\n","z":1},"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}');
    // Keys are ordered by UTF-16 code units, as JCS orders them: U+FB33 after the surrogate pair of U+1F600.
    expect(canonicalJson({ "\ufb33": 1, "\u{1f600}": 2 })).toBe('{"\u{1f600}":2,"\ufb33":1}');
  });

  it("is computed by the documented node recipe, in another process", () => {
    const recipe =
      'const c=v=>v===null||typeof v!=="object"?JSON.stringify(v):Array.isArray(v)?"["+v.map(c)+"]":"{"+Object.keys(v).sort().map(k=>JSON.stringify(k)+":"+c(v[k]))+"}";let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("sha256:"+require("crypto").createHash("sha256").update(c(JSON.parse(s))).digest("hex")))';
    const definition = { name: "echo", description: "Echoes the message back", inputSchema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] }, annotations: { readOnlyHint: true }, _meta: { "x/y": [1, 2.5] } };
    const output = execFileSync(process.execPath, ["-e", recipe], { input: JSON.stringify(definition, null, 2) }).toString().trim();
    expect(output).toBe(definitionDigest(definition));
  });
});
