import { describe, expect, it } from "vitest";
import { parseYaml } from "../../../functions/policy/yaml.js";

/** The first line of the error thrown for `text` (fails the test when it parses). */
function refusal(text: string): string {
  try {
    parseYaml(text);
  } catch (err) {
    return (err as Error).message.split("\n")[0] as string;
  }
  throw new Error(`accepted: ${JSON.stringify(text)}`);
}

describe("parseYaml: the YAML dialect of policy documents and test files", () => {
  it("reads YAML 1.2 core schema values, and JSON", () => {
    expect(parseYaml("a: yes\nb: 0o17\nc: 0x1F\nd: ~\ne: 2024-01-01\nf: 012\ng: .inf")).toEqual({
      a: "yes", b: 15, c: 31, d: null, e: "2024-01-01", f: 12, g: Infinity,
    });
    expect(parseYaml('{\n\t"tools": {"echo": ["admin"]}\n}')).toEqual({ tools: { echo: ["admin"] } });
  });

  it.each(["", "  \n# only a comment\n", "---\n", "null"])("reads an empty document as null: %j", (text) => {
    expect(parseYaml(text)).toBeNull();
  });

  it("refuses duplicate keys, naming the line and column, with a snippet", () => {
    expect(() => parseYaml("tools:\n  echo: [admin]\n  echo: [x]\n")).toThrow(
      /^duplicated mapping key at line 3, column 3:\n\n 1 \| tools:\n[\s\S]* 3 \| {3}echo: \[x\]\n/,
    );
    expect(refusal('{"a": 1, "a": 2}')).toMatch(/^duplicated mapping key at line 1, column \d+:$/);
  });

  it("refuses more than one document", () => {
    expect(refusal("a: 1\n---\nb: 2\n")).toBe("expected a single document in the stream, but found more");
  });

  it("reads a null key as the empty name, never as a name \"null\"", () => {
    expect(parseYaml("tools:\n  ~: [admin]\n")).toEqual({ tools: { "": ["admin"] } });
    expect(parseYaml("tools:\n  null: [admin]\n")).toEqual({ tools: { "": ["admin"] } });
    expect(parseYaml("tools:\n  'null': [admin]\n")).toEqual({ tools: { null: ["admin"] } });
  });

  it("refuses keys that are lists or mappings, and tags it does not know", () => {
    expect(refusal("[a]: x")).toMatch(/complex keys at line 1, column 1:$/);
    expect(refusal("a: !custom x")).toMatch(/^unknown scalar tag .* at line 1, column 4:$/);
  });

  it("reads aliases, but refuses documents that aliases blow up", () => {
    expect(parseYaml("admins: &admins [a, b]\ntools:\n  echo: *admins\n")).toEqual({ admins: ["a", "b"], tools: { echo: ["a", "b"] } });
    let bomb = "a0: &a0 [x]\n";
    for (let i = 1; i <= 40; i++) bomb += `a${i}: &a${i} [*a${i - 1}, *a${i - 1}]\n`;
    expect(refusal(bomb)).toMatch(/^the document's aliases expand to more than 100000 values/);
    const many = `r: &r [x]\ntools:\n${Array.from({ length: 101 }, (_, i) => `  t${i}: *r\n`).join("")}`;
    expect(refusal(many)).toMatch(/^aliases exceeded maxAliases \(100\)/);
    expect(refusal("tools: &a\n  x: *a\n")).toMatch(/^recursive alias "a"/);
  });
});
