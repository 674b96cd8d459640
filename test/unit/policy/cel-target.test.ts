/**
 * `mcp.<kind>.target`: CEL rules read the server an item belongs to, as agentgateway's do, beside its name. An item of
 * no server (the policy CLI without a server) has no target: `has()` says so, and a read is an error, so false.
 */
import { Environment } from "@marcbachmann/cel-js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, decider } from "../../../functions/policy/decide.js";
import type { Identity, ItemKind, PolicyItem } from "../../../functions/policy/types.js";
import { loadPolicyText } from "../../support/policy-text.js";

const caller = (roles: string[] = []): Identity => ({ subject: "jsmith", claims: { sub: "jsmith", roles }, roles, scopes: [] });
const tool = (name: string, target?: string, args?: Record<string, unknown>): PolicyItem => ({
  kind: "tool",
  name,
  ...(target === undefined ? {} : { target }),
  ...(args === undefined ? {} : { arguments: args }),
});

describe("mcp.tool.target in CEL rules", () => {
  it("runs agentgateway's own test expression as written: the tool of that server only", () => {
    const policy = loadPolicyText(`rules:\n- 'mcp.tool.name == "increment" && mcp.tool.target == "server"'`);
    expect(decide(policy, caller(), tool("increment", "server"))).toEqual({ allowed: true, rule: "p.yaml rules[0]", explanation: "allowed by p.yaml rules[0]" });
    expect(decide(policy, caller(), tool("increment", "other")).allowed).toBe(false);
    expect(decide(policy, caller(), tool("decrement", "server")).allowed).toBe(false);
    // No server at all: the read is an evaluation error, which counts as false.
    expect(decide(policy, caller(), tool("increment"))).toMatchObject({ allowed: false, rule: undefined });
  });

  it("allows and denies by server, for every kind of item", () => {
    const policy = loadPolicyText(
      [
        "rules:",
        "- 'mcp.tool.target == \"github\" && \"dev\" in jwt.roles'",
        "- 'mcp.prompt.target == \"jira\"'",
        "- 'mcp.resource.target.startsWith(\"wiki-\")'",
        "- deny: 'mcp.tool.target == \"github\" && mcp.tool.name.startsWith(\"delete_\")'",
      ].join("\n"),
    );
    const dev = caller(["dev"]);
    expect(decide(policy, dev, tool("search_code", "github"))).toMatchObject({ allowed: true, rule: "p.yaml rules[0]" });
    expect(decide(policy, dev, tool("search_code", "jira")).allowed).toBe(false);
    expect(decide(policy, caller(), tool("search_code", "github")).allowed).toBe(false);
    expect(decide(policy, dev, tool("delete_repo", "github"))).toMatchObject({ allowed: false, rule: "p.yaml rules[3]" });
    expect(decide(policy, dev, { kind: "prompt", name: "triage", target: "jira" })).toMatchObject({ allowed: true, rule: "p.yaml rules[1]" });
    expect(decide(policy, dev, { kind: "prompt", name: "triage", target: "github" }).allowed).toBe(false);
    expect(decide(policy, dev, { kind: "resource", name: "wiki://home", target: "wiki-eu" })).toMatchObject({ allowed: true, rule: "p.yaml rules[2]" });
    expect(decide(policy, dev, { kind: "resource", name: "wiki://home", target: "docs" }).allowed).toBe(false);
  });

  it("reads the target in every spelling: mcp.tool.target, mcp[\"tool\"][\"target\"], mcp.tool[\"target\"]", () => {
    for (const read of ["mcp.tool.target", 'mcp["tool"]["target"]', 'mcp.tool["target"]']) {
      const policy = loadPolicyText(`rules:\n- ${JSON.stringify(`${read} == "a"`)}`);
      expect(decide(policy, caller(), tool("t", "a")).allowed).toBe(true);
      expect(decide(policy, caller(), tool("t", "b")).allowed).toBe(false);
    }
  });

  it("tells an item without a target by has(): false, and a read of it is false in allow and deny rules alike", () => {
    const requireServer = loadPolicyText(`rules:\n- require: 'has(mcp.tool.target)'\n- 'true'`);
    expect(decide(requireServer, caller(), tool("t", "a"))).toMatchObject({ allowed: true, rule: "p.yaml rules[1]" });
    expect(decide(requireServer, caller(), tool("t"))).toMatchObject({ allowed: false, rule: "p.yaml rules[0]" });
    const denyOthers = loadPolicyText(`rules:\n- deny: 'mcp.tool.target != "a"'\n- 'true'`);
    expect(decide(denyOthers, caller(), tool("t", "b"))).toMatchObject({ allowed: false, rule: "p.yaml rules[0]" });
    // The deny reads a target that is not there: an error, so false, and the deny does not hold (as for a claim).
    expect(decide(denyOthers, caller(), tool("t"))).toMatchObject({ allowed: true, rule: "p.yaml rules[1]" });
  });
});

describe("mcp.tool.target and what decisions work out in advance", () => {
  it("never files a rule by its target as if it were a name: a server's every tool is judged by it", () => {
    const policy = loadPolicyText(`rules:\n- 'mcp.tool.target == "github"'\n- deny: 'mcp.tool.target in ["search"]'`);
    expect(policy.index.named.tool.size).toBe(0);
    expect(policy.index.prefixed.tool.byPrefix.size).toBe(0);
    expect(decide(policy, caller(), tool("search", "github"))).toMatchObject({ allowed: true, rule: "p.yaml rules[0]" });
    expect(decide(policy, caller(), tool("github", "search"))).toMatchObject({ allowed: false, rule: "p.yaml rules[1]" });
    expect(decide(policy, caller(), tool("github", "jira")).allowed).toBe(false);
  });

  it("keeps a rule testing name and target filed under the name, and still tests the target", () => {
    const policy = loadPolicyText(`rules:\n- 'mcp.tool.name == "increment" && mcp.tool.target == "server"'`);
    expect([...policy.index.named.tool.keys()]).toEqual(["increment"]);
    const judge = decider(policy, caller());
    expect([tool("increment", "server"), tool("increment", "other"), tool("server", "server")].map((item) => judge(item).allowed)).toEqual([true, false, false]);
  });

  it("works out the claims part once per caller, and the target per item", () => {
    const policy = loadPolicyText(`rules:\n- '"dev" in jwt.roles && mcp.tool.target == "github"'`);
    const dev = decider(policy, caller(["dev"]));
    expect([tool("a", "github"), tool("a", "jira"), tool("b", "github")].map((item) => dev(item).allowed)).toEqual([true, false, true]);
    const other = decider(policy, caller(["ops"]));
    expect(other(tool("a", "github")).allowed).toBe(false);
  });

  it("lists a tool whose argument condition may hold on its server only", () => {
    const policy = loadPolicyText(`rules:\n- 'mcp.tool.target == "bank" && mcp.tool.arguments.amount < 1000'`);
    expect(decide(policy, caller(), tool("transfer", "bank")).allowed).toBe(true);
    expect(decide(policy, caller(), tool("transfer", "shop")).allowed).toBe(false);
    expect(decide(policy, caller(), tool("transfer", "bank", { amount: 5000 })).allowed).toBe(false);
    expect(decide(policy, caller(), tool("transfer", "bank", { amount: 50 })).allowed).toBe(true);
  });
});

describe("property: rules reading the target decide as evaluating every rule in order would", () => {
  // Names and servers that are prefixes of each other and equal to each other's names, so no shortcut passes by luck.
  const NAMES = ["a", "a-b", "ab", "b"];
  const ATOMS = [
    ...NAMES.flatMap((n) => [`mcp.tool.name == "${n}"`, `mcp.tool.target == "${n}"`, `"${n}" == mcp.prompt.target`, `mcp.resource.target == "${n}"`]),
    'mcp.tool.name.startsWith("a")',
    'mcp.tool.target.startsWith("a")',
    'mcp.prompt.target in ["a", "b"]',
    'mcp.tool.name == "a" || mcp.tool.target == "a"',
    "has(mcp.tool.target)",
    "!has(mcp.prompt.target)",
    '"dev" in jwt.roles',
    'mcp.tool["target"] == mcp.tool.name',
  ];
  const ruleArb = fc.record({ effect: fc.constantFrom("allow", "deny", "require"), atoms: fc.array(fc.constantFrom(...ATOMS), { minLength: 1, maxLength: 3 }) });
  const itemArb = fc.record({ kind: fc.constantFrom<ItemKind>("tool", "prompt", "resource"), name: fc.constantFrom(...NAMES), target: fc.option(fc.constantFrom(...NAMES), { nil: undefined }) });

  // The reference knows nothing of the index: every condition evaluated whole by cel-js, an error counting as false.
  const cel = new Environment();
  cel.registerVariable("mcp", "map");
  cel.registerVariable("jwt", "map");
  const holds = (expression: string, item: PolicyItem, identity: Identity) => {
    const described: Record<string, unknown> = { name: item.name, ...(item.kind === "resource" ? { uri: item.name } : {}), ...(item.target === undefined ? {} : { target: item.target }) };
    if (item.kind === "tool") described.arguments = {};
    try {
      return cel.evaluate(expression, { mcp: { [item.kind]: described }, jwt: identity.claims }) === true;
    } catch {
      return false;
    }
  };

  it("same outcome and deciding rule, for every caller and item", () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 6 }), fc.array(itemArb, { minLength: 1, maxLength: 6 }), fc.boolean(), (rules, items, isDev) => {
        const expressions = rules.map((rule) => ({ effect: rule.effect, expression: rule.atoms.join(" && ") }));
        const policy = loadPolicyText(`rules:\n${expressions.map((r) => `- ${r.effect}: ${JSON.stringify(r.expression)}`).join("\n")}`);
        const identity = caller(isDev ? ["dev"] : []);
        const judge = decider(policy, identity);
        for (const { kind, name, target } of items) {
          // A resource URI of one reading only (a scheme, no escapes), and a tool called with arguments: no listing.
          const item: PolicyItem = { kind, name: kind === "resource" ? `docs://${name}` : name, ...(target === undefined ? {} : { target }), ...(kind === "tool" ? { arguments: {} } : {}) };
          const stop = expressions.findIndex((r) => (r.effect === "deny" && holds(r.expression, item, identity)) || (r.effect === "require" && !holds(r.expression, item, identity)));
          const allow = expressions.findIndex((r) => r.effect === "allow" && holds(r.expression, item, identity));
          const hasAllow = expressions.some((r) => r.effect === "allow");
          const expected = stop >= 0 ? { allowed: false, rule: `p.yaml rules[${stop}]` } : !hasAllow ? { allowed: true, rule: undefined } : allow >= 0 ? { allowed: true, rule: `p.yaml rules[${allow}]` } : { allowed: false, rule: undefined };
          expect(judge(item)).toMatchObject(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
