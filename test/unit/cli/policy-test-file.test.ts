import { describe, expect, it } from "vitest";
import { parseExplainArgs } from "../../../functions/cli/policy/explain.js";
import { TestFileError, parseTestFile } from "../../../functions/cli/policy/test-file.js";
import { UsageError } from "../../../functions/cli/usage-error.js";

const parse = (text: string) => parseTestFile("policy.test.yaml", text, "/base");

/** The problems listed for a test file that must be refused (fails the test when it is accepted). */
function problems(text: string): readonly string[] {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(TestFileError);
    return (err as TestFileError).problems;
  }
  throw new Error(`accepted: ${text}`);
}

const HEADER = "policy: walkthrough.yaml\nidentities:\n  boss: { sub: pointy-haired-boss, roles: [admin] }\ncases:\n";

describe("parseTestFile", () => {
  it("reads policy files relative to the test file, named identities and inline claims", () => {
    const file = parse(`${HEADER}  - { as: boss, tool: echo, expect: allow, rule: "walkthrough.yaml rules[0]" }
  - { name: inline, claims: { sub: x }, prompt: summarize, expect: deny, rule: null }
  - { as: boss, tool: transfer, args: { amount: 50 }, expect: allow }
  - { as: boss, resource: "docs://a", expect: deny }`);
    expect(file.location).toEqual({ files: ["walkthrough.yaml"], baseDir: "/base" });
    expect(file.rolesClaim).toBeUndefined();
    expect(file.cases).toEqual([
      { place: "cases[0]", name: undefined, identityName: "boss", claims: { sub: "pointy-haired-boss", roles: ["admin"] }, kind: "tool", itemName: "echo", args: undefined, expect: "allow", rule: "walkthrough.yaml rules[0]" },
      { place: "cases[1]", name: "inline", identityName: undefined, claims: { sub: "x" }, kind: "prompt", itemName: "summarize", args: undefined, expect: "deny", rule: null },
      { place: "cases[2]", name: undefined, identityName: "boss", claims: { sub: "pointy-haired-boss", roles: ["admin"] }, kind: "tool", itemName: "transfer", args: { amount: 50 }, expect: "allow", rule: undefined },
      { place: "cases[3]", name: undefined, identityName: "boss", claims: { sub: "pointy-haired-boss", roles: ["admin"] }, kind: "resource", itemName: "docs://a", args: undefined, expect: "deny", rule: undefined },
    ]);
  });

  it("takes a list of policy files, or an SSM path, and a roles claim", () => {
    expect(parse("policy: [a.yaml, b.yaml]\ncases: [{ claims: {}, tool: t, expect: deny }]").location).toEqual({ files: ["a.yaml", "b.yaml"], baseDir: "/base" });
    const file = parse("path: /mcp/policies\nrolesClaim: groups\ncases: [{ claims: {}, tool: t, expect: deny }]");
    expect(file.location).toEqual({ ssmPath: "/mcp/policies" });
    expect(file.rolesClaim).toBe("groups");
  });

  it("names an unknown key and lists the keys allowed there", () => {
    expect(problems(`${HEADER}  - { as: boss, tool: echo, expect: allow, expected: allow }`)).toEqual([
      'cases[0]: unknown key "expected" (allowed: name, as, claims, tool, prompt, resource, server, args, expect, rule)',
    ]);
    expect(problems(`${HEADER}  - { as: boss, tool: echo, expect: allow }\npolicies: [x]`)).toEqual([
      '(file): unknown key "policies" (allowed: description, policy, path, rolesClaim, identities, cases)',
    ]);
  });

  it("says expect is required, or what it must be", () => {
    expect(problems(`${HEADER}  - { as: boss, tool: echo }`)).toEqual(['cases[0].expect: is required: "allow" or "deny"']);
    expect(problems(`${HEADER}  - { as: boss, tool: echo, expect: yes }`)).toEqual(['cases[0].expect: must be "allow" or "deny"']);
  });

  it("lists every problem at once, cross-field ones included", () => {
    expect(problems(`${HEADER}  - { as: bos, tool: echo, prompt: p, expect: maybe }\n  - { claims: { sub: x }, as: boss, prompt: p, args: { a: 1 }, expect: deny, rule: "" }`)).toEqual([
      'cases[0].expect: must be "allow" or "deny"',
      "cases[0]: needs exactly one of tool, prompt, resource (has tool, prompt)",
      "cases[1].rule: must not be empty",
      "cases[1]: needs exactly one of as (a named identity) or claims",
      "cases[1].args: goes with tool: only tool calls have arguments",
      'cases[0].as: no identity named "bos" (one of boss)',
    ]);
  });

  it("reads policy: { path } as every document under an SSM path, its trailing slash dropped, with an optional region", () => {
    const CASES = "\ncases: [{ claims: {}, tool: t, expect: deny }]";
    expect(parse(`policy: { path: /mcp/policies }${CASES}`).location).toEqual({ ssmPath: "/mcp/policies" });
    expect(parse(`policy:\n  path: /mcp/policies/\n  region: eu-west-1${CASES}`).location).toEqual({ ssmPath: "/mcp/policies", region: "eu-west-1" });
    expect(parse(`path: /mcp/policies/${CASES}`).location).toEqual({ ssmPath: "/mcp/policies" });
  });

  it("names every accepted form of policy: when it is none of them, and the mistake inside one that it is", () => {
    const CASES = "\ncases: [{ claims: {}, tool: t, expect: deny }]";
    const FORMS =
      "must be a policy file (policy: walkthrough.yaml) or a non-empty list of them (policy: [a.yaml, b.yaml]), relative to the test file, " +
      "or an SSM path (policy: { path: /mcp-sso-gateway/McpSsoGateway/policies }, with an optional region)";
    expect(problems(`policy: 5${CASES}`)).toEqual([`policy: ${FORMS}`]);
    expect(problems(`policy: []${CASES}`)).toEqual([`policy: ${FORMS}`]);
    expect(problems(`policy: { file: a.yaml, path: /p }${CASES}`)).toEqual([`policy: unknown key "file" (allowed: path, region); ${FORMS}`]);
    expect(problems(`policy: { path: relative }${CASES}`)).toEqual(['policy.path: must be an SSM parameter path starting with "/"']);
    expect(problems(`policy: { region: eu-west-1 }${CASES}`)).toEqual(["policy.path: is required: an SSM parameter path, such as /mcp-sso-gateway/McpSsoGateway/policies"]);
    expect(problems(`policy: [a.yaml, '']${CASES}`)).toEqual(["policy[1]: must not be empty"]);
  });

  it("needs exactly one of policy and path, and at least one case", () => {
    const ONE_OF =
      "(file): needs exactly one of policy (files: policy: walkthrough.yaml or policy: [a.yaml, b.yaml]; an SSM path: policy: { path: /an/ssm/path }) or path (an SSM path: path: /an/ssm/path)";
    expect(problems("cases: [{ claims: {}, tool: t, expect: deny }]")).toEqual([ONE_OF]);
    expect(problems("policy: a.yaml\npath: /p\ncases: [{ claims: {}, tool: t, expect: deny }]")).toEqual([ONE_OF]);
    expect(problems("policy: a.yaml\ncases: []")).toEqual(["cases: must list at least one case"]);
    expect(problems("path: relative\ncases: [{ claims: {}, tool: t, expect: deny }]")).toEqual(['path: must be an SSM parameter path starting with "/"']);
  });

  it("wants claims and arguments as maps", () => {
    expect(problems(`${HEADER}  - { claims: [a], tool: echo, expect: deny }\n  - { as: boss, tool: echo, args: 5, expect: deny }`)).toEqual([
      "cases[0].claims: must be a map of claims, such as { sub: jsmith, roles: [admin] }",
      "cases[1].args: must be a map of the tool call's arguments",
    ]);
    expect(problems("policy: a.yaml\nidentities: { boss: admin }\ncases: [{ as: boss, tool: t, expect: deny }]")).toEqual([
      "identities.boss: must be a map of claims, such as { sub: jsmith, roles: [admin] }",
    ]);
  });

  it("refuses an empty file, YAML that does not parse, and duplicate keys", () => {
    expect(problems("")).toEqual(["the file is empty"]);
    expect(problems("cases: [")[0]).toMatch(/^not valid YAML: /);
    expect(problems("policy: a.yaml\npolicy: b.yaml\ncases: []")[0]).toMatch(/^not valid YAML: duplicated mapping key at line 2, column 1/);
  });

  it("reads a case's server, and none where a case gives none", () => {
    const file = parse(`${HEADER}  - { as: boss, tool: search_code, server: github, expect: allow }\n  - { as: boss, tool: search_code, expect: deny }`);
    expect(file.cases.map((c) => c.server)).toEqual(["github", undefined]);
  });

  it("refuses a server name the gateway could not have, and an empty one, listing every problem", () => {
    const notAServerName = "is not a server name: a server name is 1 to 63 lower-case letters, digits and hyphens ([a-z0-9-]{1,63})";
    expect(problems(`${HEADER}  - { as: boss, tool: t, server: GitHub, expect: deny }\n  - { as: boss, tool: t, server: "", expect: deny }\n  - { as: boss, tool: t, server: 1, expect: deny }`)).toEqual([
      `cases[0].server: "GitHub" ${notAServerName}`,
      "cases[1].server: must not be empty",
      "cases[2].server: must be a server name",
    ]);
  });

  it("puts the file name in the error message", () => {
    expect(() => parse("cases: 1")).toThrow(/^policy\.test\.yaml: invalid test file:\n {2}/);
  });
});

describe("parseExplainArgs", () => {
  const usage = (args: string[]): string => {
    try {
      parseExplainArgs(args);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error(`accepted: ${args.join(" ")}`);
  };

  it("reads files, claims, the item and its arguments", () => {
    expect(parseExplainArgs(["a.yaml", "b.yaml", "--claims", '{"sub":"x"}', "--tool", "t", "--args", '{"n":1}', "--roles-claim", "groups"])).toEqual({
      location: { files: ["a.yaml", "b.yaml"] },
      claims: { sub: "x" },
      rolesClaim: "groups",
      kind: "tool",
      name: "t",
      template: false,
      args: { n: 1 },
    });
    expect(parseExplainArgs(["--path", "/p", "--claims", "{}", "--resource", "docs://a", "--list"])).toMatchObject({
      location: { ssmPath: "/p" },
      rolesClaim: "roles",
      kind: "resource",
      args: undefined,
    });
    expect(parseExplainArgs(["--path", "/p/", "--region", "eu-west-1", "--claims", "{}", "--tool", "t"])?.location).toEqual({ ssmPath: "/p", region: "eu-west-1" });
  });

  it("refuses missing, doubled and contradictory options", () => {
    expect(usage(["--claims", "{}", "--tool", "t"])).toMatch(/^give the policy/);
    expect(usage(["a.yaml", "--path", "/p", "--claims", "{}", "--tool", "t"])).toMatch(/not both/);
    expect(usage(["a.yaml", "--tool", "t"])).toMatch(/^give the caller/);
    expect(usage(["a.yaml", "--claims", "{}", "--token", "x.y.z", "--tool", "t"])).toMatch(/--token or --claims, not both/);
    expect(usage(["a.yaml", "--claims", "{}"])).toMatch(/exactly one of --tool/);
    expect(usage(["a.yaml", "--claims", "{}", "--tool", "t", "--prompt", "p"])).toMatch(/exactly one of --tool/);
    expect(usage(["a.yaml", "--claims", "{}", "--prompt", "p", "--args", "{}"])).toMatch(/--args goes with --tool/);
    expect(usage(["a.yaml", "--claims", "{}", "--tool", "t", "--args", "{}", "--list"])).toMatch(/give one of them/);
    expect(usage(["a.yaml", "--claims", "{}", "--tool", ""])).toMatch(/--tool must not be empty/);
    expect(usage(["a.yaml", "--region", "eu-west-1", "--claims", "{}", "--tool", "t"])).toMatch(/--region goes with --path/);
  });

  it("refuses JSON that is not an object, and a token that is not a JWT", () => {
    expect(usage(["a.yaml", "--claims", "[1]", "--tool", "t"])).toMatch(/--claims must be a JSON object/);
    expect(usage(["a.yaml", "--claims", "{", "--tool", "t"])).toMatch(/--claims is not valid JSON/);
    expect(usage(["a.yaml", "--claims", "{}", "--tool", "t", "--args", "1"])).toMatch(/--args must be a JSON object/);
    expect(usage(["a.yaml", "--token", "not-a-jwt", "--tool", "t"])).toMatch(/--token is not a JWT/);
  });
});
