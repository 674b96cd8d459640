import { describe, expect, it } from "vitest";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import { lintPolicy, type LintFacts } from "../../../functions/policy/lint.js";

const lint = (text: string, facts?: LintFacts) => lintPolicy([parsePolicyDocument({ origin: "p.yaml", text })], facts);
const messages = (text: string, facts?: LintFacts) => lint(text, facts).map((f) => `${f.origin}: ${f.message}`);

describe("lintPolicy", () => {
  it("finds nothing wrong with the walkthrough policy", () => {
    expect(lint(`rules:\n- 'mcp.tool.name == "echo" && "admin" in jwt.roles'`, { claims: ["sub", "roles"], tools: ["echo"] })).toEqual([]);
  });

  it("flags a rule that can never match", () => {
    expect(messages("rules:\n- 'false'\n- 'true && 1 == 2'")).toEqual([
      "p.yaml rules[0]: can never match (the condition is always false)",
      "p.yaml rules[1]: can never match (the condition is always false)",
    ]);
    expect(messages("rules:\n- 'true'\n- require: 'false'")).toContain("p.yaml rules[1]: can never hold, so it denies everything");
  });

  it("flags a rule that needs two item kinds at once", () => {
    expect(messages(`rules:\n- 'mcp.tool.name == "a" && mcp.prompt.name == "b"'`)).toEqual([
      "p.yaml rules[0]: can never match: it needs mcp.tool and mcp.prompt at once, but an item is only one kind",
    ]);
    expect(messages(`rules:\n- 'has(mcp.tool) && mcp.tool.name == "a" || mcp.prompt.name == "b"'`)).toEqual([]);
  });

  it("flags grants shadowed by a wider one, and allows shadowed by an allow-everything rule", () => {
    expect(messages("tools:\n  'search_*': [employee, admin]\n  search_docs: [admin]\n  search_web: [guest]")).toEqual([
      "p.yaml tools.search_docs: is shadowed: p.yaml tools.search_* already allows it for the same roles",
    ]);
    expect(messages("tools:\n  echo: [admin]\nrules:\n- 'true'\n- '\"x\" in jwt.roles'")).toEqual([
      "p.yaml tools.echo: is shadowed: p.yaml rules[0] already allows everything",
      "p.yaml rules[1]: is shadowed: p.yaml rules[0] already allows everything",
    ]);
  });

  it("flags claims the tokens do not carry", () => {
    const facts = { claims: ["sub", "groups"], rolesClaim: "roles" };
    expect(messages(`tools:\n  echo: [admin]\n  ping: ['*']\nrules:\n- '"x" in jwt.groups || jwt["https://acme/roles"] == "y"'`, facts)).toEqual([
      "p.yaml tools.echo: grants roles, but the tokens carry no roles claim (the roles claim)",
      "p.yaml rules[0]: reads jwt.https://acme/roles, which the tokens do not carry",
    ]);
  });

  it("given the backend's tools, flags patterns that match none and tools nobody can use", () => {
    const facts = { tools: ["echo", "add", "search_docs"] };
    expect(messages(`tools:\n  ehco: ['*']\n  'search_*': [a]\nrules:\n- 'mcp.tool.name == "add" && "x" in jwt.roles'`, facts)).toEqual([
      "p.yaml tools.ehco: matches no tool of the backend",
      "tool echo: is matched by no rule: nobody can see or call it",
    ]);
  });

  it("does not call tools unusable under a deny-only policy (it allows what it does not deny)", () => {
    expect(messages("rules:\n- deny: 'mcp.tool.name == \"add\"'", { tools: ["echo", "add"] })).toEqual([]);
  });
});
