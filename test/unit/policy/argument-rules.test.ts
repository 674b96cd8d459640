/**
 * Argument-aware rules: a call is judged on its real arguments; a listed tool (no arguments yet) is listed when some
 * arguments could get it allowed.
 */
import { describe, expect, it } from "vitest";
import { identityFromClaims } from "../../../functions/auth/identity.js";
import { compilePolicy } from "../../../functions/policy/compile.js";
import { decide } from "../../../functions/policy/decide.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";

const policyOf = (text: string) => compilePolicy([parsePolicyDocument({ origin: "p.yaml", text })]);
const who = (roles: string[]) => identityFromClaims({ sub: "u", roles }, "roles");
const listing = (name: string) => ({ kind: "tool" as const, name });
const call = (name: string, args: Record<string, unknown>) => ({ kind: "tool" as const, name, arguments: args });

describe("agentgateway rules on mcp.tool.arguments", () => {
  const policy = policyOf(`rules:\n- 'mcp.tool.name == "transfer" && mcp.tool.arguments.amount < 1000'\n- 'mcp.tool.name == "echo"'`);

  it("lists the tool, since some arguments satisfy the rule", () => {
    expect(decide(policy, who([]), listing("transfer"))).toMatchObject({ allowed: true, rule: "p.yaml rules[0]" });
  });

  it("judges each call on its real arguments", () => {
    expect(decide(policy, who([]), call("transfer", { amount: 50 })).allowed).toBe(true);
    expect(decide(policy, who([]), call("transfer", { amount: 999.5 })).allowed).toBe(true);
    expect(decide(policy, who([]), call("transfer", { amount: 5000 })).allowed).toBe(false);
    expect(decide(policy, who([]), call("transfer", {})).allowed).toBe(false);
    expect(decide(policy, who([]), call("transfer", { amount: "50" })).allowed).toBe(false);
  });

  it("does not list a tool whose known part is false, whatever the arguments", () => {
    expect(decide(policy, who([]), listing("other")).allowed).toBe(false);
  });

  it("combines known and unknown parts: true || unknown lists, false && unknown does not", () => {
    const either = policyOf(`rules:\n- '"cfo" in jwt.roles || mcp.tool.arguments.amount < 100'`);
    expect(decide(either, who(["cfo"]), listing("transfer")).allowed).toBe(true);
    expect(decide(either, who([]), listing("transfer")).allowed).toBe(true);
    expect(decide(either, who([]), call("transfer", { amount: 500 })).allowed).toBe(false);
    expect(decide(either, who(["cfo"]), call("transfer", { amount: 500 })).allowed).toBe(true);
    const both = policyOf(`rules:\n- '"cfo" in jwt.roles && !(mcp.tool.arguments.amount > 1000)'`);
    expect(decide(both, who([]), listing("transfer")).allowed).toBe(false);
    expect(decide(both, who(["cfo"]), listing("transfer")).allowed).toBe(true);
    expect(decide(both, who(["cfo"]), call("transfer", { amount: 2000 })).allowed).toBe(false);
  });

  it("does not let a deny on arguments hide the tool, but applies it to each call", () => {
    const policy = policyOf(`rules:\n- 'true'\n- deny: 'mcp.tool.name == "deploy" && mcp.tool.arguments.env == "prod"'`);
    expect(decide(policy, who([]), listing("deploy")).allowed).toBe(true);
    expect(decide(policy, who([]), call("deploy", { env: "prod" }))).toMatchObject({ allowed: false, rule: "p.yaml rules[1]" });
    expect(decide(policy, who([]), call("deploy", { env: "dev" })).allowed).toBe(true);
  });

  it("lets a deny that surely holds hide the tool even when it also reads arguments", () => {
    const policy = policyOf(`rules:\n- 'true'\n- deny: 'jwt.sub == "u" || mcp.tool.arguments.env == "prod"'`);
    expect(decide(policy, who([]), listing("deploy")).allowed).toBe(false);
  });

  it("applies a require on arguments to calls only", () => {
    const policy = policyOf(`rules:\n- 'true'\n- require: 'mcp.tool.arguments.dryRun == true'`);
    expect(decide(policy, who([]), listing("deploy")).allowed).toBe(true);
    expect(decide(policy, who([]), call("deploy", { dryRun: false })).allowed).toBe(false);
    expect(decide(policy, who([]), call("deploy", { dryRun: true })).allowed).toBe(true);
  });

  it("reads arguments written with index syntax too", () => {
    const policy = policyOf(`rules:\n- 'mcp.tool["arguments"]["amount"] < 10'`);
    expect(decide(policy, who([]), listing("x")).allowed).toBe(true);
    expect(decide(policy, who([]), call("x", { amount: 20 })).allowed).toBe(false);
  });
});

describe("native grants with a condition", () => {
  const policy = policyOf("tools:\n  transfer: { roles: [finance], when: 'mcp.tool.arguments.amount < 1000' }\n  echo: ['*']");

  it("lists the tool for the roles, when some arguments satisfy the condition", () => {
    expect(decide(policy, who(["finance"]), listing("transfer"))).toMatchObject({ allowed: true, rule: "p.yaml tools.transfer" });
    expect(decide(policy, who(["sales"]), listing("transfer")).allowed).toBe(false);
  });

  it("judges each call on its arguments", () => {
    expect(decide(policy, who(["finance"]), call("transfer", { amount: 10 })).allowed).toBe(true);
    expect(decide(policy, who(["finance"]), call("transfer", { amount: 10_000 })).allowed).toBe(false);
    expect(decide(policy, who(["sales"]), call("transfer", { amount: 10 })).allowed).toBe(false);
  });

  it("refuses a condition that does not compile, naming it", () => {
    expect(() => policyOf("tools:\n  transfer: { roles: [a], when: 'mcp.tool.arguments.amount <' }")).toThrow(/^p\.yaml tools\.transfer\.when: CEL does not parse/);
  });
});
