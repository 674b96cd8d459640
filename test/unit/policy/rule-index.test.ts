/**
 * Which rules a decision looks at for an item: those filed under its exact name, under prefixes of its name, and
 * those that may hold for any name.
 */
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../../functions/policy/compile.js";
import type { NamedPolicyDocument } from "../../../functions/policy/document.js";

function indexOf(document: Record<string, unknown>) {
  const policy = compilePolicy([{ origin: "p.yaml", document: { rules: [], ...document } } as unknown as NamedPolicyDocument]);
  const origins = (positions: readonly number[]) => positions.map((p) => policy.rules[p]!.origin.replace("p.yaml ", ""));
  const named = (kind: "tool" | "prompt" | "resource") =>
    Object.fromEntries([...policy.index.named[kind]].map(([name, at]) => [name, { stops: origins(at.stops), allows: origins(at.allows) }]));
  const prefixed = (kind: "tool" | "prompt" | "resource") =>
    Object.fromEntries([...policy.index.prefixed[kind].byPrefix].map(([prefix, at]) => [prefix, { stops: origins(at.stops), allows: origins(at.allows) }]));
  const any = (kind: "tool" | "prompt" | "resource") => ({ stops: origins(policy.index.anyName[kind].stops), allows: origins(policy.index.anyName[kind].allows) });
  return { named, prefixed, any, hasAllowRule: policy.index.hasAllowRule, lengths: (kind: "tool") => policy.index.prefixed[kind].lengths };
}

const rule = (effect: "allow" | "deny" | "require", expression: string) => ({ effect, expression });

describe("the rule index", () => {
  it("files rules under the exact names their top-level conjuncts test, in every spelling", () => {
    const index = indexOf({
      rules: [
        rule("allow", 'mcp.tool.name == "echo" && "admin" in jwt.roles'),
        rule("allow", '"echo" == mcp["tool"]["name"]'),
        rule("deny", 'jwt.sub == "mallory" && mcp.tool["name"] in ["echo", "add", "echo"]'),
        rule("allow", 'mcp.resource.uri == "docs://a" || mcp.prompt.name == "p"'),
      ],
    });
    expect(index.named("tool")).toEqual({
      echo: { stops: ["rules[2]"], allows: ["rules[0]", "rules[1]"] },
      add: { stops: ["rules[2]"], allows: [] },
    });
    expect(index.named("resource")).toEqual({ "docs://a": { stops: [], allows: ["rules[3]"] } });
    expect(index.named("prompt")).toEqual({ p: { stops: [], allows: ["rules[3]"] } });
    expect([index.any("tool"), index.any("prompt"), index.any("resource")]).toEqual(Array(3).fill({ stops: [], allows: [] }));
  });

  it("files native grants by exact name, or by the text before a glob's first * or ?, under their own kind only", () => {
    const index = indexOf({
      tools: { echo: { roles: ["*"] }, "search_*": { roles: ["admin"] }, "sea?ch": { roles: ["*"] }, "*_docs": { roles: ["*"] } },
      prompts: { "ech?": { roles: ["*"] } },
    });
    expect(index.named("tool")).toEqual({ echo: { stops: [], allows: ["tools.echo"] } });
    expect(index.prefixed("tool")).toEqual({ search_: { stops: [], allows: ["tools.search_*"] }, sea: { stops: [], allows: ["tools.sea?ch"] } });
    expect(index.lengths("tool")).toEqual([3, 7]);
    expect(index.any("tool")).toEqual({ stops: [], allows: ["tools.*_docs"] });
    expect(index.prefixed("prompt")).toEqual({ ech: { stops: [], allows: ["prompts.ech?"] } });
    expect([index.named("resource"), index.prefixed("resource"), index.any("resource")]).toEqual([{}, {}, { stops: [], allows: [] }]);
  });

  it("files CEL rules by the prefix they test (.startsWith), and by kind alone for other string tests", () => {
    const index = indexOf({
      rules: [
        rule("allow", 'mcp.tool.name.startsWith("db_") && "admin" in jwt.roles'),
        rule("deny", 'mcp.tool.name.startsWith("db_") || mcp.tool.name == "wipe"'),
        rule("allow", 'mcp.prompt.name.endsWith("_plan")'),
      ],
    });
    expect(index.prefixed("tool")).toEqual({ db_: { stops: ["rules[1]"], allows: ["rules[0]"] } });
    expect(index.named("tool")).toEqual({ wipe: { stops: ["rules[1]"], allows: [] } });
    expect(index.any("prompt")).toEqual({ stops: [], allows: ["rules[2]"] });
    expect(index.any("tool")).toEqual({ stops: [], allows: [] });
  });

  it("keeps for every item: require rules (even naming one), and rules that do not test names alone", () => {
    const index = indexOf({
      rules: [
        rule("require", 'mcp.tool.name == "echo"'),
        rule("allow", 'size(mcp.tool.name) > 3'),
        rule("allow", 'mcp.tool.name == "a" || mcp.tool.name.endsWith("_b") || mcp.prompt.name == "p"'),
        rule("deny", '!(mcp.tool.name == "echo")'),
        rule("allow", 'mcp.tool.name == "a" || "admin" in jwt.roles'),
        rule("deny", 'jwt.sub == "mallory"'),
      ],
    });
    expect(index.named("tool")).toEqual({ a: { stops: [], allows: ["rules[2]"] } });
    expect(index.any("tool")).toEqual({ stops: ["rules[0]", "rules[3]", "rules[5]"], allows: ["rules[1]", "rules[2]", "rules[4]"] });
    expect(index.named("prompt")).toEqual({ p: { stops: [], allows: ["rules[2]"] } });
  });

  it("files a rule whose name tests cannot all hold nowhere, and notes whether any allow rule exists", () => {
    const index = indexOf({ rules: [rule("deny", 'mcp.tool.name == "a" && mcp.tool.name == "b"'), rule("deny", "mcp.tool.name in []")] });
    expect([index.named("tool"), index.any("tool"), index.hasAllowRule]).toEqual([{}, { stops: [], allows: [] }, false]);
  });
});
