import { describe, expect, it } from "vitest";
import { PolicyError } from "../../../functions/errors.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";

const parse = (text: string, origin = "policy.yaml") => parsePolicyDocument({ origin, text }).document;

/** The PolicyError message for a document that must be refused (fails the test when it is accepted). */
function refusal(text: string, origin = "policy.yaml"): string {
  try {
    parsePolicyDocument({ origin, text });
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    return (err as PolicyError).message;
  }
  throw new Error(`accepted: ${JSON.stringify(text)}`);
}

describe("parsePolicyDocument: agentgateway form", () => {
  it("reads the walkthrough file exactly as agentgateway's docs write it", () => {
    const text = `rules:\n- 'mcp.tool.name == "echo" && "admin" in jwt.roles'`;
    expect(parsePolicyDocument({ origin: "walkthrough.yaml", text })).toMatchObject({
      origin: "walkthrough.yaml",
      document: { rules: [{ effect: "allow", expression: 'mcp.tool.name == "echo" && "admin" in jwt.roles' }] },
    });
    expect(parsePolicyDocument({ origin: "walkthrough.yaml", text }).document).toEqual({
      rules: [{ effect: "allow", expression: 'mcp.tool.name == "echo" && "admin" in jwt.roles' }],
    });
  });

  it("accepts an mcpAuthorization block as is", () => {
    const doc = parse(`mcpAuthorization:\n  rules:\n  - 'jwt.sub == "a"'\n  - deny: 'jwt.sub == "b"'`);
    expect(doc.rules).toEqual([
      { effect: "allow", expression: 'jwt.sub == "a"' },
      { effect: "deny", expression: 'jwt.sub == "b"' },
    ]);
  });

  it("keeps top-level rules first, then the mcpAuthorization rules", () => {
    const doc = parse(`rules: ['jwt.sub == "top"']\nmcpAuthorization:\n  rules: ['jwt.sub == "block"']`);
    expect(doc.rules.map((r) => r.expression)).toEqual(['jwt.sub == "top"', 'jwt.sub == "block"']);
  });

  it("turns allow, deny and require objects into rules with that effect", () => {
    const doc = parse(`rules:\n- allow: 'true'\n- deny: 'jwt.sub == "mallory"'\n- require: 'has(jwt.email)'`);
    expect(doc.rules).toEqual([
      { effect: "allow", expression: "true" },
      { effect: "deny", expression: 'jwt.sub == "mallory"' },
      { effect: "require", expression: "has(jwt.email)" },
    ]);
  });
});

describe("parsePolicyDocument: native form", () => {
  it("reads tools, prompts and resources with role lists and single role strings", () => {
    const doc = parse(
      [
        "version: 1",
        "description: native roles",
        "tools:",
        "  echo: [admin]",
        '  "search_*": [employee, admin]',
        "prompts:",
        "  summarize: '*'",
        "resources:",
        '  "docs://public/*": ["*"]',
      ].join("\n"),
    );
    expect(doc).toEqual({
      version: 1,
      description: "native roles",
      tools: { echo: { roles: ["admin"] }, "search_*": { roles: ["employee", "admin"] } },
      prompts: { summarize: { roles: ["*"] } },
      resources: { "docs://public/*": { roles: ["*"] } },
      rules: [],
    });
  });

  it("reads the same document written as JSON", () => {
    const doc = parse(JSON.stringify({ tools: { echo: "admin" }, rules: [{ deny: 'jwt.sub == "x"' }] }));
    expect(doc).toEqual({ tools: { echo: { roles: ["admin"] } }, rules: [{ effect: "deny", expression: 'jwt.sub == "x"' }] });
  });

  it("reads a grant with a condition", () => {
    const doc = parse("tools:\n  transfer: { roles: [finance], when: 'mcp.tool.arguments.amount < 1000' }");
    expect(doc.tools).toEqual({ transfer: { roles: ["finance"], when: "mcp.tool.arguments.amount < 1000" } });
  });
});

describe("parsePolicyDocument: refusals name the origin and the place", () => {
  it("an unknown top-level key", () => {
    const message = refusal("tools:\n  echo: [admin]\ntoolz:\n  x: [a]", "team-a.yaml");
    expect(message).toMatch(/^team-a\.yaml: /);
    expect(message).toContain("toolz");
  });

  it("an empty role list, at its path", () => {
    const message = refusal("tools:\n  echo: []");
    expect(message).toBe("policy.yaml: tools.echo: must be a role name, a non-empty list of role names, or { roles, when } (line 2, column 9)");
  });

  it("an empty role name", () => {
    expect(refusal("prompts:\n  summarize: ''")).toMatch(/^policy\.yaml: prompts\.summarize: /);
  });

  it("a rule object with two keys, at its index", () => {
    const message = refusal("rules:\n- 'true'\n- allow: 'true'\n  deny: 'false'");
    expect(message).toMatch(/^policy\.yaml: rules\[1\]: /);
    expect(message).toContain("exactly one of allow, deny, require");
  });

  it("a rule object with an unknown key", () => {
    expect(refusal("rules:\n- permit: 'true'")).toMatch(/^policy\.yaml: rules\[0\]: /);
  });

  it("an unknown key inside mcpAuthorization", () => {
    const message = refusal("mcpAuthorization:\n  rules: ['true']\n  extra: 1");
    expect(message).toMatch(/^policy\.yaml: mcpAuthorization: /);
    expect(message).toContain("extra");
  });

  it("duplicate YAML keys, which would otherwise silently drop a grant", () => {
    const message = refusal("tools:\n  echo: [admin]\n  echo: [everyone]");
    expect(message).toMatch(/^policy\.yaml: not valid YAML or JSON: /);
    expect(message).toMatch(/duplicated mapping key/);
  });

  it("duplicate JSON keys", () => {
    expect(refusal('{"tools": {"echo": ["admin"], "echo": ["*"]}}')).toMatch(/^policy\.yaml: not valid YAML or JSON/);
  });

  it.each([
    ["empty text", ""],
    ["whitespace and comments only", "  \n# nothing here\n"],
    ["an explicit null", "null"],
  ])("an empty document: %s", (_label, text) => {
    expect(refusal(text, "ssm:/gw/policy")).toBe("ssm:/gw/policy: the document is empty");
  });

  it("invalid YAML", () => {
    expect(refusal("tools: [")).toMatch(/^policy\.yaml: not valid YAML or JSON: /);
  });

  it("a document that is not a mapping", () => {
    expect(refusal("- 'true'")).toMatch(/^policy\.yaml: \(document\): /);
    expect(refusal('"allow everything"')).toMatch(/^policy\.yaml: \(document\): /);
  });

  it("a version other than 1", () => {
    expect(refusal("version: 2\nrules: ['true']")).toMatch(/^policy\.yaml: version: /);
  });

  it("an empty CEL rule", () => {
    expect(refusal("rules:\n- ''")).toBe("policy.yaml: rules[0]: a CEL rule must not be empty (line 2, column 4)");
    expect(refusal("rules:\n- deny: ''")).toBe("policy.yaml: rules[0]: a CEL rule must not be empty (line 2, column 3)");
  });

  it("an empty name pattern", () => {
    expect(refusal('tools:\n  "": [admin]')).toBe('policy.yaml: tools[""]: a name or pattern must not be empty (line 2, column 7)');
  });

  it("reports every problem of a document at once", () => {
    const message = refusal("tools:\n  echo: []\nprompts:\n  p: 5");
    expect(message).toContain("tools.echo");
    expect(message).toContain("prompts.p");
  });
});
