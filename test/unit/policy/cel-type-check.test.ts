/**
 * CEL conditions are type-checked against the variables the gateway really binds (cel-schema.ts): a misspelt field
 * or variable is refused when the policy loads, with its place in the document, wherever CEL is written. Before this
 * check such a condition loaded and was an evaluation error (false) for every item: a deny rule that never held.
 */
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../../functions/policy/compile.js";
import { decide } from "../../../functions/policy/decide.js";
import type { Identity } from "../../../functions/policy/types.js";
import { loadPolicyText, policyRefusal } from "../../support/policy-text.js";

const load = (text: string) => loadPolicyText(text);
const refusal = (text: string) => policyRefusal(text);

const mallory: Identity = { subject: "mallory", claims: { sub: "mallory", roles: ["employee"] }, roles: ["employee"], scopes: [] };

describe("CEL type check: unknown fields and variables make the document invalid", () => {
  it("refuses the typo that would fail open in a deny rule, naming the field, the fields there are, line and column", () => {
    expect(refusal(`tools:\n  echo: ['*']\nrules:\n- deny: 'mcp.tool.nme == "echo"'`)).toBe(
      "p.yaml rules[0]: CEL is not valid here: mcp.tool has no field nme (its fields: name, target, arguments) (line 4, column 19)",
    );
  });

  it.each([
    ['mcp.resourc.uri == "x"', "mcp has no field resourc (its fields: tool, prompt, resource)", 5],
    ["mcp.nope", "mcp has no field nope (its fields: tool, prompt, resource)", 5],
    ['mpc.tool.name == "x"', "unknown variable mpc (the gateway provides mcp and jwt)", 1],
    ['request.method == "GET"', "unknown variable request (the gateway provides mcp and jwt)", 1],
    ['mcp.prompt.arguments.x == "a"', "mcp.prompt has no field arguments (its fields: name, target)", 12],
    ['mcp.resource.url == "a"', "mcp.resource has no field url (its fields: name, uri, target)", 14],
    ['mcp.tool.targt == "server"', "mcp.tool has no field targt (its fields: name, target, arguments)", 10],
    ['mcp.prompt.server == "server"', "mcp.prompt has no field server (its fields: name, target)", 12],
    ["has(mcp.resource.targets)", "mcp.resource has no field targets (its fields: name, uri, target)", 18],
    ['mcp["tool"]["nme"] == "echo"', "mcp.tool has no field nme (its fields: name, target, arguments)", 15],
    ["has(mcp.tool.nme)", "mcp.tool has no field nme (its fields: name, target, arguments)", 14],
    ['has(mcp.nope) && jwt.sub == "a"', "mcp has no field nope (its fields: tool, prompt, resource)", 9],
  ])("refuses %s: %s", (expression, problem, column) => {
    expect(refusal(`rules:\n- ${JSON.stringify(expression)}`)).toBe(`p.yaml rules[0]: CEL is not valid here: ${problem} (line 2, column ${column + 3})`);
  });

  it("refuses them in every form a rule takes: allow, deny, require objects and the mcpAuthorization block", () => {
    expect(refusal(`rules:\n- allow: 'mcp.tool.nme == "a"'`)).toMatch(/^p\.yaml rules\[0\]: .*mcp\.tool has no field nme.* \(line 2, column 20\)$/);
    expect(refusal(`rules:\n- require: 'mcp.tool.nme == "a"'`)).toMatch(/^p\.yaml rules\[0\]: .* \(line 2, column 22\)$/);
    expect(refusal(`rules: ['true']\nmcpAuthorization:\n  rules:\n  - 'true'\n  - deny: "mcp.tool.nme == 'a'"`)).toMatch(
      /^p\.yaml rules\[2\]: .*mcp\.tool has no field nme.* \(line 5, column 21\)$/,
    );
  });

  it("refuses them in a native grant's when condition, where mcp holds only the grant's own kind", () => {
    expect(refusal(`tools:\n  transfer: { roles: [finance], when: 'mcp.tool.arguments.amount < 1000 && mcp.tool.nam == "x"' }`)).toBe(
      "p.yaml tools.transfer.when: CEL is not valid here: mcp.tool has no field nam (its fields: name, target, arguments) (line 2, column 85)",
    );
    expect(refusal(`tools:\n  transfer:\n    roles: [finance]\n    when: 'mcp.prompt.name == "x"'`)).toBe(
      "p.yaml tools.transfer.when: CEL is not valid here: mcp.prompt is never set here: the item is a tool, so mcp has only tool (line 4, column 16)",
    );
    expect(refusal(`prompts:\n  summarize: { roles: [a], when: 'mcp.tool.arguments.x == 1' }`)).toMatch(/mcp\.tool is never set here: the item is a prompt/);
  });

  it("refuses reads of a macro's variable that its value does not have, in cel-js's words", () => {
    expect(refusal(`rules:\n- '[mcp.tool].exists(t, t.nme == "a")'`)).toMatch(/^p\.yaml rules\[0\]: CEL is not valid here: t\.nme: No such key: nme/);
  });

  it("refuses conditions that can only be false for their type: a non-boolean, a comparison across types", () => {
    expect(refusal("rules:\n- 'mcp.tool.name'")).toMatch(/^p\.yaml rules\[0\]: a rule must be a boolean condition, but this one gives string/);
    expect(refusal("rules:\n- deny: 'mcp.tool.name == 1'")).toMatch(/^p\.yaml rules\[0\]: CEL is not valid here: no such overload: string == int/);
  });

  it("gives the column in the condition when the document has no text to point into", () => {
    const document = { origin: "p.yaml", document: { rules: [{ effect: "deny" as const, expression: 'mcp.tool.nme == "a"' }] } };
    expect(() => compilePolicy([document])).toThrow(/mcp\.tool has no field nme .*\(column 10 of the condition\)$/);
  });
});

describe("CEL type check: what the gateway provides stays usable", () => {
  it.each([
    'mcp.tool.name == "echo" && "admin" in jwt.roles',
    'mcp["tool"]["name"] == "echo"',
    'mcp.resource.uri.startsWith("docs://") || mcp.resource.name == "x"',
    'has(mcp.prompt) && mcp.prompt.name == "summarize"',
    // Claims are free-form, nested or not, and so are a call's arguments.
    'jwt.resource_access["mcp-gateway"].roles.exists(r, r == "reporting")',
    'jwt["https://example.com/roles"] == "x" || jwt.anything.at.all == 1',
    "has(jwt.email) && has(mcp.tool.arguments.amount) && mcp.tool.arguments.amount < 1000",
    'mcp.tool.arguments.nested.deep.value == "x" && size(mcp.tool.arguments) > 0',
    "jwt.sub",
    "mcp.tool.arguments.flag",
    'cel.bind(t, mcp.tool, t.name == "echo")',
    // The server an item belongs to, beside its name, for every kind (agentgateway's own test reads it so).
    'mcp.tool.name == "increment" && mcp.tool.target == "server"',
    'mcp["prompt"]["target"] == "jira" || mcp.resource.target.startsWith("git")',
    "has(mcp.tool.target)",
  ])("accepts %s", (expression) => {
    expect(() => load(`rules:\n- ${JSON.stringify(expression)}`)).not.toThrow();
  });

  it("evaluates as before: the check only checks", () => {
    const policy = load(`tools:\n  '*': ['*']\nrules:\n- deny: 'mcp.tool.name == "echo" && jwt.sub == "mallory"'\n- deny: 'mcp.tool.arguments.env == "prod"'`);
    expect(decide(policy, mallory, { kind: "tool", name: "echo" })).toMatchObject({ allowed: false, rule: "p.yaml rules[0]" });
    expect(decide(policy, mallory, { kind: "tool", name: "add", arguments: { env: "prod" } })).toMatchObject({ allowed: false, rule: "p.yaml rules[1]" });
    expect(decide(policy, mallory, { kind: "tool", name: "add", arguments: { env: "dev" } }).allowed).toBe(true);
    expect(decide(policy, mallory, { kind: "prompt", name: "p" }).allowed).toBe(false);
  });
});
