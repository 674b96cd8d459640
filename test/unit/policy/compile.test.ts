import { describe, expect, it } from "vitest";
import { PolicyError } from "../../../functions/errors.js";
import { celVariables } from "../../../functions/policy/cel-condition.js";
import { compilePolicy } from "../../../functions/policy/compile.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";

const compileText = (text: string, origin = "team.yaml") => compilePolicy([parsePolicyDocument({ origin, text })]);
const compileRules = (rules: unknown[], origin = "team.yaml") => compileText(JSON.stringify({ rules }), origin);

function compileRefusal(rules: unknown[], origin = "team.yaml"): string {
  try {
    compileRules(rules, origin);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).message;
  }
  throw new Error(`compiled: ${JSON.stringify(rules)}`);
}

describe("compilePolicy: CEL is checked when the policy loads", () => {
  it("refuses CEL that does not parse, naming the rule", () => {
    expect(compileRefusal(["true", 'mcp.tool.name == '])).toMatch(/^team\.yaml rules\[1\]: CEL does not parse/);
  });

  it("refuses a variable agentgateway does not offer here", () => {
    const message = compileRefusal(['request.method == "GET"']);
    expect(message).toMatch(/^team\.yaml rules\[0\]: /);
    expect(message).toContain("request");
  });

  it.each([["1 + 2"], ['"admin"'], ["[true]"]])("refuses a rule that is not boolean: %s", (expression) => {
    expect(compileRefusal([expression])).toMatch(/^team\.yaml rules\[0\]: a rule must be a boolean condition/);
  });

  it("names the rule inside a deny or require object too", () => {
    expect(compileRefusal(["true", { deny: "1 + 2" }])).toMatch(/^team\.yaml rules\[1\]: /);
    expect(compileRefusal([{ require: "jwt.sub ==" }])).toMatch(/^team\.yaml rules\[0\]: /);
  });

  it("counts rules from the mcpAuthorization block after the top-level ones", () => {
    const text = "rules: ['true']\nmcpAuthorization:\n  rules: ['1 + 2']";
    expect(() => compileText(text)).toThrow(/^team\.yaml rules\[1\]: /);
  });

  it("accepts conditions over claims of unknown type (dyn)", () => {
    expect(() => compileRules(["jwt.sub", 'size(jwt.roles) > 0', 'mcp.tool.name.startsWith("a")'])).not.toThrow();
  });
});

describe("compilePolicy: merging", () => {
  it("keeps the documents' origins in merge order and names each rule by document and place", () => {
    const policy = compilePolicy([
      parsePolicyDocument({ origin: "a.yaml", text: "tools:\n  echo: [admin]\nrules: ['true']" }),
      parsePolicyDocument({ origin: "b.yaml", text: "resources:\n  'docs://*': ['*']\nrules:\n- deny: 'false'" }),
    ]);
    expect(policy.origins).toEqual(["a.yaml", "b.yaml"]);
    expect(policy.rules.map((r) => [r.effect, r.origin])).toEqual([
      ["allow", "a.yaml tools.echo"],
      ["allow", "a.yaml rules[0]"],
      ["allow", "b.yaml resources.docs://*"],
      ["deny", "b.yaml rules[0]"],
    ]);
  });
});

describe("celVariables", () => {
  it("shapes mcp.<kind>.name as agentgateway does, with uri for resources, and passes the claims as jwt", () => {
    const identity = { subject: "a", claims: { sub: "a", roles: ["x"] }, roles: ["x"], scopes: [] };
    expect(celVariables(identity, { kind: "tool", name: "echo" })).toEqual({ mcp: { tool: { name: "echo" } }, jwt: identity.claims });
    expect(celVariables(identity, { kind: "resource", name: "docs://a" })).toEqual({
      mcp: { resource: { name: "docs://a", uri: "docs://a" } },
      jwt: identity.claims,
    });
  });
});
