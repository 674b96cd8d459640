/**
 * Lint of server-scoped grants (`servers.<name>`) and of rules reading `mcp.<kind>.target`: the warnings the top-level
 * grants get, without mixing one server's grants with another's, and the tool checks server by server.
 */
import { describe, expect, it } from "vitest";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import { lintPolicy, type LintFacts } from "../../../functions/policy/lint.js";

/** `origin: message @line:column` per finding of documents named a.yaml, b.yaml, ... */
function lines(texts: string | readonly string[], facts?: LintFacts): string[] {
  const documents = (typeof texts === "string" ? [texts] : texts).map((text, i) => parsePolicyDocument({ origin: `${String.fromCharCode(97 + i)}.yaml`, text }));
  return lintPolicy(documents, facts).map((f) => `${f.origin}: ${f.message}${f.position ? ` @${f.position.line}:${f.position.column}` : ""}`);
}

describe("lint: server-scoped grants get the warnings top-level ones get", () => {
  it("names, roles and resource keys, each at its place under servers", () => {
    expect(lines(`servers:\n  github:\n    tools: { "search ": [dev], create: ["dev, ops"] }\n    resources: { readme: [dev] }`)).toEqual([
      "a.yaml servers.github.tools.search : has leading or trailing whitespace, which tool names do not have: it matches only a name written with it @3:15",
      'a.yaml servers.github.tools.create: grants the one role "dev, ops"; for several roles, list them: [dev, ops] @3:40',
      "a.yaml servers.github.resources.readme: is not a URI: it has no scheme (such as docs:), and MCP names resources by URI, so no resource a backend serves has it @4:18",
    ]);
  });

  it("a when condition that can hold on no item of the grant's own server", () => {
    const wrongServer = `servers:\n  github:\n    tools:\n      merge: { roles: [dev], when: 'mcp.tool.target == "jira"' }`;
    expect(lines(wrongServer)).toEqual([
      'a.yaml servers.github.tools.merge: grants nothing: its when condition can hold for no caller and no arguments on tool "merge" of server github @4:7',
    ]);
    expect(lines(`servers:\n  github:\n    tools:\n      merge: { roles: [dev], when: 'mcp.tool.target == "github"' }`)).toEqual([]);
    // A top-level grant applies to every server's items: a condition on the target may hold for one of them.
    expect(lines(`tools:\n  merge: { roles: [dev], when: 'mcp.tool.target == "jira"' }`)).toEqual([]);
  });

  it("judges a server's resource grant by the grants of that server and the top-level ones only", () => {
    // DOCS://x is also read as docs://x (WHATWG): a grant of docs://x on another server does not make it readable here.
    expect(lines(`servers:\n  a:\n    resources: { "DOCS://x": [r] }\n  b:\n    resources: { "docs://x": [r] }`)).toEqual([
      'a.yaml servers.a.resources.DOCS://x: grants no read: "DOCS://x": as a backend may read it (WHATWG-normalised: "docs://x"), no resource grant or allow rule matches it @3:19',
    ]);
    expect(lines(`resources: { "docs://x": [r] }\nservers:\n  a:\n    resources: { "DOCS://x": [r] }`)).toEqual([]);
    expect(lines(`servers:\n  a:\n    resources: { "DOCS://x": [r], "docs://x": [r] }`)).toEqual([]);
  });
});

describe("lint: shadowed grants, server by server", () => {
  it("a server's grant is shadowed by a wider top-level grant or one of its own server, never by another server's", () => {
    expect(lines(`servers:\n  a:\n    tools: { x: [dev] }\n  b:\n    tools: { "*": [dev] }`)).toEqual([]);
    expect(lines(`tools: { "*": [dev] }\nservers:\n  a:\n    tools: { x: [dev] }`)).toEqual([
      "a.yaml servers.a.tools.x: is shadowed: a.yaml tools.* already allows it for the same roles @4:14",
    ]);
    expect(lines(`servers:\n  a:\n    tools: { x: [dev], "*": [dev] }`)).toEqual(["a.yaml servers.a.tools.x: is shadowed: a.yaml servers.a.tools.* already allows it for the same roles @3:14"]);
    expect(lines([`servers:\n  a:\n    tools: { x: [dev] }`, `servers:\n  a:\n    tools: { "x*": [dev] }`])).toEqual([
      "a.yaml servers.a.tools.x: is shadowed: b.yaml servers.a.tools.x* already allows it for the same roles @3:14",
    ]);
  });

  it("a top-level grant is not shadowed by one server's grant, which covers that server only", () => {
    expect(lines(`tools: { x: [dev] }\nservers:\n  a:\n    tools: { "*": [dev] }`)).toEqual([]);
  });

  it("a dry-run document with server grants only is still said to be in dry run", () => {
    expect(lines(`dryRun: true\nservers:\n  a:\n    tools: { x: [dev] }`)).toEqual([
      "a.yaml dryRun: is true: the document's grants and rules are logged as they would decide, and never enforced (none of its deny rules stops anything); remove dryRun to enforce it @1:1",
    ]);
  });
});

describe("lint: each server's tools", () => {
  const serverTools = { github: ["search_code", "create_issue"], jira: ["search_issues", "create_issue"] };

  it("reports grants matching no tool of their server, and top-level ones matching no tool of any", () => {
    const policy = `tools:\n  "list_*": [dev]\n  "search_*": [ops]\nservers:\n  github:\n    tools: { search_issues: [dev], create_issue: [dev] }\n  jira:\n    tools: { create_issue: [dev] }`;
    expect(lines(policy, { serverTools })).toEqual([
      "a.yaml tools.list_*: matches no tool of any server (github, jira) @2:4",
      "a.yaml servers.github.tools.search_issues: matches no tool of server github @6:14",
    ]);
  });

  it("reports each server's tools no rule could allow, naming the server", () => {
    expect(lines(`servers:\n  github:\n    tools: { "*": [dev] }`, { serverTools })).toEqual([
      "server jira tool search_issues: is matched by no rule: nobody can see or call it",
      "server jira tool create_issue: is matched by no rule: nobody can see or call it",
    ]);
    // A CEL rule on the target allows every tool of its server.
    expect(lines(`servers:\n  github:\n    tools: { "*": [dev] }\nrules:\n- 'mcp.tool.target == "jira" && "dev" in jwt.roles'`, { serverTools })).toEqual([]);
    expect(lines(`rules:\n- 'mcp.tool.target == "jira"'`, { serverTools })).toEqual([
      "server github tool search_code: is matched by no rule: nobody can see or call it",
      "server github tool create_issue: is matched by no rule: nobody can see or call it",
    ]);
  });

  it("warns of a servers section naming a server the lists do not have, at its key, once", () => {
    expect(lines(`servers:\n  github:\n    tools: { "*": [dev] }\n  confluence:\n    tools: { search: [dev] }\nrules:\n- 'mcp.tool.target == "jira"'`, { serverTools })).toEqual([
      "a.yaml servers.confluence: names a server the tool lists do not have (they list github, jira): unless the gateway has a server of that name, its grants apply to nothing @4:3",
    ]);
  });

  it("names rules about tools no server has", () => {
    expect(lines(`tools: { "*": [dev] }\nrules:\n- deny: 'mcp.tool.name == "delete_repo"'`, { serverTools })).toEqual([
      'a.yaml rules[0]: is about tool "delete_repo", which no server has, so it denies nothing @3:10',
    ]);
  });

  it("reads one list without server names as a backend of any server: its server's grants and target rules may be for it", () => {
    const policy = `servers:\n  github:\n    tools: { search_code: [dev] }\n  jira:\n    tools: { nothing: [dev] }\nrules:\n- 'mcp.tool.target == "github" && mcp.tool.name == "create_issue"'`;
    expect(lines(policy, { tools: ["search_code", "create_issue"] })).toEqual(["a.yaml servers.jira.tools.nothing: matches no tool of the backend @5:14"]);
  });
});
