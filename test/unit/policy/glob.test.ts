import { describe, expect, it } from "vitest";
import { globToRegExp } from "../../../functions/policy/glob.js";

const matches = (pattern: string, name: string) => globToRegExp(pattern).test(name);

describe("globToRegExp", () => {
  it("matches a name without wildcards exactly, and nothing else", () => {
    expect(matches("echo", "echo")).toBe(true);
    for (const other of ["echo2", "xecho", "ech", "Echo", "echo ", ""]) expect(matches("echo", other)).toBe(false);
  });

  it("lets * match any run of characters, slashes and newlines included, and the empty run", () => {
    expect(matches("search_*", "search_")).toBe(true);
    expect(matches("search_*", "search_web")).toBe(true);
    expect(matches("docs://public/*", "docs://public/a/b/c.md")).toBe(true);
    expect(matches("docs://*/readme", "docs://a/b/readme")).toBe(true);
    expect(matches("*", "line one\nline two")).toBe(true);
    expect(matches("docs://public/*", "docs://internal/a")).toBe(false);
    expect(matches("search_*", "research_web")).toBe(false);
  });

  it("lets ? match exactly one character, including one outside the BMP", () => {
    expect(matches("a?c", "abc")).toBe(true);
    expect(matches("a?c", "ac")).toBe(false);
    expect(matches("a?c", "abbc")).toBe(false);
    expect(matches("a?c", "a😀c")).toBe(true);
    expect(matches("a?c", "a😀😀c")).toBe(false);
    expect(matches("?", "😀")).toBe(true);
    expect(matches("??", "😀")).toBe(false);
    expect(matches("a?c", "a/c")).toBe(true);
  });

  it.each([
    ["a.b", "axb"],
    ["a+b", "aab"],
    ["(x)", "x"],
    ["[y]", "y"],
    ["a\\b", "ab"],
    ["^a$", "a"],
    ["a|b", "a"],
    ["x{2}", "xx"],
    ["a\\d", "a1"],
  ])("treats regular expression syntax in %j literally", (pattern, imposter) => {
    expect(matches(pattern, pattern)).toBe(true);
    expect(matches(pattern, imposter)).toBe(false);
  });

  it("is case-sensitive and does not normalise Unicode", () => {
    expect(matches("echo", "ECHO")).toBe(false);
    expect(matches("echo", "ｅｃｈｏ")).toBe(false);
    expect(matches("café", "cafe\u0301")).toBe(false);
    expect(matches("search_*", "SEARCH_web")).toBe(false);
  });

  it("anchors at both ends", () => {
    expect(matches("b*", "ab")).toBe(false);
    expect(matches("*a", "ab")).toBe(false);
  });
});
