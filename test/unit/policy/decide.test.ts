import { describe, expect, it } from "vitest";
import type { JwtPayload } from "aws-jwt-verify/jwt-model";
import { identityFromClaims } from "../../../functions/auth/identity.js";
import { compilePolicy, type CompiledPolicy } from "../../../functions/policy/compile.js";
import { decide } from "../../../functions/policy/decide.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import type { Identity, PolicyItem } from "../../../functions/policy/types.js";

/** Compiles documents named a.yaml, b.yaml, ... in order. */
function policy(...texts: string[]): CompiledPolicy {
  return compilePolicy(texts.map((text, i) => parsePolicyDocument({ origin: `${String.fromCharCode(97 + i)}.yaml`, text })));
}
const caller = (claims: JwtPayload, rolesClaim = "roles"): Identity => identityFromClaims(claims, rolesClaim);
const tool = (name: string): PolicyItem => ({ kind: "tool", name });
const prompt = (name: string): PolicyItem => ({ kind: "prompt", name });
const resource = (name: string): PolicyItem => ({ kind: "resource", name });

const WALKTHROUGH = `rules:\n- 'mcp.tool.name == "echo" && "admin" in jwt.roles'`;
const NATIVE = [
  "tools:",
  "  echo: [admin]",
  '  "search_*": [employee, admin]',
  "prompts:",
  '  summarize: ["*"]',
  "resources:",
  '  "docs://public/*": ["*"]',
  '  "docs://internal/*": [employee]',
].join("\n");

describe("decide: the walkthrough rule (agentgateway form)", () => {
  const walkthrough = policy(WALKTHROUGH);

  it("denies jsmith, whose token has no roles claim", () => {
    expect(decide(walkthrough, caller({ sub: "jsmith" }), tool("echo"))).toEqual({
      allowed: false,
      rule: undefined,
      explanation: "no rule allows it (default deny)",
    });
  });

  it("allows a caller with roles [admin], naming the rule", () => {
    const decision = decide(walkthrough, caller({ sub: "boss", roles: ["admin"] }), tool("echo"));
    expect(decision).toMatchObject({ allowed: true, rule: "a.yaml rules[0]" });
    expect(decision.explanation).toContain("a.yaml rules[0]");
  });

  it("denies a prompt named echo even for an admin", () => {
    expect(decide(walkthrough, caller({ roles: ["admin"] }), prompt("echo")).allowed).toBe(false);
  });

  it("denies other tools to an admin", () => {
    expect(decide(walkthrough, caller({ roles: ["admin"] }), tool("search")).allowed).toBe(false);
  });

  it("reads nested claims such as Keycloak's realm_access.roles", () => {
    const keycloak = policy(`rules:\n- '"admin" in jwt.realm_access.roles'`);
    expect(decide(keycloak, caller({ realm_access: { roles: ["admin"] } }), tool("x")).allowed).toBe(true);
    expect(decide(keycloak, caller({ realm_access: { roles: ["user"] } }), tool("x")).allowed).toBe(false);
    expect(decide(keycloak, caller({ realm_access: {} }), tool("x")).allowed).toBe(false);
    expect(decide(keycloak, caller({}), tool("x")).allowed).toBe(false);
  });
});

describe("decide: combining rules", () => {
  it("lets a deny that holds override an allow that holds, whatever their order", () => {
    const allowFirst = policy(`rules:\n- 'true'\n- deny: 'jwt.sub == "mallory"'`);
    const denyFirst = policy(`rules:\n- deny: 'jwt.sub == "mallory"'\n- 'true'`);
    for (const p of [allowFirst, denyFirst]) {
      const decision = decide(p, caller({ sub: "mallory" }), tool("echo"));
      expect(decision.allowed).toBe(false);
      expect(decision.rule).toMatch(/^a\.yaml rules\[[01]\]$/);
      expect(decide(p, caller({ sub: "alice" }), tool("echo")).allowed).toBe(true);
    }
    expect(decide(allowFirst, caller({ sub: "mallory" }), tool("echo")).rule).toBe("a.yaml rules[1]");
  });

  it("denies when a require rule does not hold, even if an allow holds", () => {
    const p = policy(`rules:\n- require: 'jwt.email_verified == true'\n- 'true'`);
    expect(decide(p, caller({ email_verified: true }), tool("x"))).toMatchObject({ allowed: true, rule: "a.yaml rules[1]" });
    expect(decide(p, caller({ email_verified: false }), tool("x"))).toMatchObject({ allowed: false, rule: "a.yaml rules[0]" });
  });

  it("treats a require that errors (missing claim) as not holding", () => {
    const p = policy(`rules:\n- require: 'jwt.email_verified == true'\n- 'true'`);
    expect(decide(p, caller({}), tool("x"))).toMatchObject({ allowed: false, rule: "a.yaml rules[0]" });
  });

  it("still needs an allow when every require holds", () => {
    const p = policy(`rules:\n- require: 'jwt.sub == "a"'\n- 'mcp.tool.name == "echo"'`);
    expect(decide(p, caller({ sub: "a" }), tool("other")).allowed).toBe(false);
    expect(decide(p, caller({ sub: "a" }), tool("echo")).allowed).toBe(true);
  });

  it("treats a policy of deny rules only as a deny-list: everything else is allowed", () => {
    const p = policy(`rules:\n- deny: 'mcp.tool.name == "rm_rf"'`);
    expect(decide(p, caller({}), tool("rm_rf"))).toMatchObject({ allowed: false, rule: "a.yaml rules[0]" });
    expect(decide(p, caller({}), tool("echo"))).toMatchObject({ allowed: true, rule: undefined });
    expect(decide(p, caller({}), prompt("rm_rf")).allowed).toBe(true);
  });

  it("allows under a require-only policy when the requirement holds", () => {
    const p = policy(`rules:\n- require: 'jwt.sub == "a"'`);
    expect(decide(p, caller({ sub: "a" }), tool("x")).allowed).toBe(true);
    expect(decide(p, caller({ sub: "b" }), tool("x")).allowed).toBe(false);
  });

  it("denies everything under an empty policy (fail closed, unlike agentgateway)", () => {
    for (const empty of [policy("rules: []"), policy("tools: {}"), compilePolicy([])]) {
      expect(decide(empty, caller({ roles: ["admin"] }), tool("echo"))).toMatchObject({ allowed: false, rule: undefined });
    }
  });

  it("counts an evaluation error in an allow as false: a missing claim denies", () => {
    const p = policy(`rules:\n- '"admin" in jwt.groups'`);
    expect(decide(p, caller({ groups: ["admin"] }), tool("x")).allowed).toBe(true);
    expect(decide(p, caller({}), tool("x")).allowed).toBe(false);
  });

  it("counts an evaluation error in a deny as false: a missing claim does not deny", () => {
    const p = policy(`rules:\n- deny: '"contractor" in jwt.groups'\n- 'true'`);
    expect(decide(p, caller({ groups: ["contractor"] }), tool("x")).allowed).toBe(false);
    expect(decide(p, caller({}), tool("x"))).toMatchObject({ allowed: true, rule: "a.yaml rules[1]" });
  });

  it("counts a rule about another item kind as false for this kind", () => {
    const p = policy(`rules:\n- deny: 'mcp.tool.name == "echo"'\n- 'mcp.prompt.name == "echo"'`);
    expect(decide(p, caller({}), prompt("echo")).allowed).toBe(true);
    expect(decide(p, caller({}), tool("echo")).allowed).toBe(false);
  });

  it("exposes resource URIs as mcp.resource.uri", () => {
    const p = policy(`rules:\n- 'mcp.resource.uri.startsWith("docs://public/")'`);
    expect(decide(p, caller({}), resource("docs://public/a")).allowed).toBe(true);
    expect(decide(p, caller({}), resource("docs://internal/a")).allowed).toBe(false);
  });
});

describe("decide: native grants", () => {
  const native = policy(NATIVE);

  it("grants exact names to the listed roles only", () => {
    expect(decide(native, caller({ roles: ["admin"] }), tool("echo"))).toMatchObject({ allowed: true, rule: "a.yaml tools.echo" });
    expect(decide(native, caller({ roles: ["employee"] }), tool("echo"))).toMatchObject({ allowed: false, rule: undefined });
    expect(decide(native, caller({}), tool("echo")).allowed).toBe(false);
  });

  it("grants glob patterns", () => {
    expect(decide(native, caller({ roles: ["employee"] }), tool("search_web"))).toMatchObject({ allowed: true, rule: "a.yaml tools.search_*" });
    expect(decide(native, caller({ roles: ["employee"] }), tool("research_web")).allowed).toBe(false);
  });

  it('lets "*" mean any authenticated caller, with or without roles', () => {
    expect(decide(native, caller({ sub: "nobody" }), prompt("summarize"))).toMatchObject({ allowed: true, rule: "a.yaml prompts.summarize" });
    expect(decide(native, caller({ sub: "nobody" }), prompt("other")).allowed).toBe(false);
  });

  it('does not let a caller holding a role literally named "*" through a grant to other roles', () => {
    expect(decide(native, caller({ roles: ["*"] }), tool("echo")).allowed).toBe(false);
  });

  it("keeps the kinds apart: a tool grant does not grant a prompt of the same name", () => {
    expect(decide(native, caller({ roles: ["admin"] }), prompt("echo")).allowed).toBe(false);
    expect(decide(native, caller({}), tool("summarize")).allowed).toBe(false);
  });

  it("matches resource globs over URIs with slashes", () => {
    expect(decide(native, caller({}), resource("docs://public/guides/a/b.md")).allowed).toBe(true);
    expect(decide(native, caller({}), resource("docs://internal/hr/pay.md")).allowed).toBe(false);
    expect(decide(native, caller({ roles: ["employee"] }), resource("docs://internal/hr/pay.md")).allowed).toBe(true);
  });

  it("reads roles as a list, a single string or a space-separated string", () => {
    expect(decide(native, caller({ roles: "admin" }), tool("echo")).allowed).toBe(true);
    expect(decide(native, caller({ roles: "viewer admin" }), tool("echo")).allowed).toBe(true);
    expect(decide(native, caller({ roles: "administrator" }), tool("echo")).allowed).toBe(false);
    expect(decide(native, caller({ roles: { admin: true } }), tool("echo")).allowed).toBe(false);
  });

  it("reads roles from the configured claim: a dotted path, or a literal Auth0-style claim name", () => {
    expect(decide(native, caller({ realm_access: { roles: ["admin"] } }, "realm_access.roles"), tool("echo")).allowed).toBe(true);
    expect(decide(native, caller({ roles: ["admin"] }, "realm_access.roles"), tool("echo")).allowed).toBe(false);
    const auth0 = "https://example.com/roles";
    expect(decide(native, caller({ [auth0]: ["admin"] }, auth0), tool("echo")).allowed).toBe(true);
    expect(decide(native, caller({ roles: ["admin"] }, auth0), tool("echo")).allowed).toBe(false);
  });
});

describe("decide: names are exact", () => {
  const native = policy(NATIVE);
  const cel = policy(`rules:\n- 'mcp.tool.name == "echo"'`);

  it.each([["Echo"], ["echo "], [" echo"], ["ｅｃｈｏ"], ["echo\u0000"], ["ECHO"]])("%j is not echo", (name) => {
    expect(decide(native, caller({ roles: ["admin"] }), tool(name)).allowed).toBe(false);
    expect(decide(cel, caller({}), tool(name)).allowed).toBe(false);
  });

  it("while echo itself is allowed by both forms", () => {
    expect(decide(native, caller({ roles: ["admin"] }), tool("echo")).allowed).toBe(true);
    expect(decide(cel, caller({}), tool("echo")).allowed).toBe(true);
  });

  it("compares role names exactly too", () => {
    expect(decide(native, caller({ roles: ["Admin"] }), tool("echo")).allowed).toBe(false);
    expect(decide(native, caller({ roles: ["admin "] }), tool("echo")).allowed).toBe(false);
  });
});

describe("decide: several documents merged", () => {
  it("unions the grants of all documents", () => {
    const p = policy("tools:\n  echo: [admin]", "tools:\n  echo: [ops]\n  search: [employee]");
    expect(decide(p, caller({ roles: ["admin"] }), tool("echo"))).toMatchObject({ allowed: true, rule: "a.yaml tools.echo" });
    expect(decide(p, caller({ roles: ["ops"] }), tool("echo"))).toMatchObject({ allowed: true, rule: "b.yaml tools.echo" });
    expect(decide(p, caller({ roles: ["employee"] }), tool("search")).allowed).toBe(true);
    expect(decide(p, caller({ roles: ["employee"] }), tool("echo")).allowed).toBe(false);
  });

  it("applies a deny in one document to grants in another", () => {
    const p = policy("tools:\n  echo: [admin]", `rules:\n- deny: 'jwt.sub == "mallory"'`);
    expect(decide(p, caller({ sub: "mallory", roles: ["admin"] }), tool("echo"))).toMatchObject({ allowed: false, rule: "b.yaml rules[0]" });
    expect(decide(p, caller({ sub: "alice", roles: ["admin"] }), tool("echo"))).toMatchObject({ allowed: true, rule: "a.yaml tools.echo" });
  });

  it("combines native grants with agentgateway rules from another document", () => {
    const p = policy("tools:\n  echo: [admin]", WALKTHROUGH);
    expect(decide(p, caller({ roles: ["admin"] }), tool("echo")).allowed).toBe(true);
    expect(decide(p, caller({}), tool("echo")).allowed).toBe(false);
  });

  it("judges a deny-only document together with grants elsewhere: what no grant allows is denied", () => {
    const p = policy("tools:\n  echo: [admin]", `rules:\n- deny: 'jwt.sub == "mallory"'`);
    expect(decide(p, caller({ sub: "alice" }), tool("other")).allowed).toBe(false);
  });
});

describe("decide: resource URIs with dot segments", () => {
  const grants = policy(`resources:\n  "docs://public/*": ["*"]\nrules:\n- 'mcp.resource.uri.startsWith("file:///srv/public/")'`);
  const denyList = policy(`rules:\n- deny: 'mcp.resource.uri.startsWith("docs://internal/")'`);

  it.each([
    "docs://public/../internal/roadmap",
    "docs://public/./readme",
    "docs://public/%2e%2e/internal/roadmap",
    "docs://public/%2E%2E%2Finternal%2Froadmap",
    "docs://public/..\\internal\\roadmap",
    "docs://public/..",
    "file:///srv/public/../../etc/passwd",
  ])("never allows %j, whatever the rules say", (uri) => {
    expect(decide(grants, caller({}), resource(uri))).toMatchObject({ allowed: false, explanation: expect.stringMatching(/dot segments/) });
    expect(decide(denyList, caller({}), resource(uri)).allowed).toBe(false);
  });

  it.each(["docs://public/readme", "docs://public/...", "docs://public/a..b", "docs://public/.hidden", "file:///srv/public/v1.2/notes"])(
    "judges %j by the rules as usual",
    (uri) => {
      expect(decide(grants, caller({}), resource(uri)).allowed).toBe(true);
    },
  );
});
