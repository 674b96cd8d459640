/**
 * Lint of grants and rules that validate but can match nothing, grant nothing or stop nothing: each a warning with
 * its place, line and column (lint-grants.ts, lint-conditions.ts).
 */
import { describe, expect, it } from "vitest";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import { lintPolicy, type LintFacts } from "../../../functions/policy/lint.js";

const lint = (text: string, facts?: LintFacts) => lintPolicy([parsePolicyDocument({ origin: "p.yaml", text })], facts);
/** `origin: message (line, column)` per finding. */
const lines = (text: string, facts?: LintFacts) =>
  lint(text, facts).map((f) => `${f.origin}: ${f.message}${f.position ? ` @${f.position.line}:${f.position.column}` : ""}`);

describe("grants that can match nothing", () => {
  it("a template with an empty-named variable", () => {
    expect(lines('resources:\n  "docs://{}": [admin]')).toEqual([
      "p.yaml resources.docs://{}: can match nothing: {} names no variable, so it is no template and matches no URI @2:4",
    ]);
  });

  it("a resource grant that is not a URI", () => {
    expect(lines("resources:\n  readme: [admin]\n  'public/*': [admin]\n  'docs://x:y:z': [admin]")).toEqual([
      "p.yaml resources.readme: is not a URI: it has no scheme (such as docs:), and MCP names resources by URI, so no resource a backend serves has it @2:3",
      'p.yaml resources.public/*: cannot match a URI: every name it matches starts with "public/", which is no URI scheme (such as docs:), and MCP names resources by URI @3:4',
      'p.yaml resources.docs://x:y:z: is not a URI a backend can parse (new URL("docs://x:y:z") fails), so no resource a backend serves has it @4:4',
    ]);
  });

  it("resource grants whose URIs the gateway never allows: dot segments, whitespace, backslashes", () => {
    expect(lines("resources:\n  'docs://public/../secret': [a]\n  'docs://a b/*': [a]\n  'docs://a\\{id}': [a]")).toEqual([
      'p.yaml resources.docs://public/../secret: grants no read: "docs://public/../secret": a resource URI with dot segments (. or ..) is never allowed: a backend may resolve it elsewhere @2:4',
      'p.yaml resources.docs://a b/*: grants no read: every URI it matches (such as "docs://a b/x"): a resource URI with control characters, whitespace or backslashes (U+0020 at offset 8) is never allowed: a backend may read it otherwise @3:4',
      'p.yaml resources.docs://a\\{id}: grants no read: every URI it matches (such as "docs://a\\\\x"): a resource URI with control characters, whitespace or backslashes (U+005C at offset 8) is never allowed: a backend may read it otherwise @4:4',
    ]);
  });

  it("resource grants another reading of whose URIs no grant or allow rule matches, unless one does", () => {
    expect(lines("resources:\n  'FILE:///data/*': [a]\n  'docs://public/café': [a]")).toEqual([
      'p.yaml resources.FILE:///data/*: grants no read: every URI it matches (such as "FILE:///data/x"): as a backend may read it (WHATWG-normalised: "file:///data/x"), no resource grant or allow rule matches it @2:4',
      'p.yaml resources.docs://public/café: grants no read: "docs://public/café": as a backend may read it (WHATWG-normalised: "docs://public/caf%C3%A9"), no resource grant or allow rule matches it @3:4',
    ]);
    expect(lint("resources:\n  'docs://public/café': [a]\n  'docs://public/caf%C3%A9': [a]")).toEqual([]);
    expect(lint("resources:\n  'FILE:///data/*': [a]\nrules:\n- 'mcp.resource.uri.startsWith(\"file:///data/\") && \"a\" in jwt.roles'")).toEqual([]);
  });

  it("finds nothing to say about grants that can match", () => {
    expect(lint("resources:\n  'docs://public/*': ['*']\n  'demo://resource/dynamic/text/{resourceId}': [admin]\n  '*': [x]\ntools:\n  echo: [a]")).toEqual([]);
  });

  it("names and roles with stray whitespace, and a comma that makes one role of two", () => {
    expect(lines("tools:\n  ' echo': [admin]\n  search: ['admin, employee']\nprompts:\n  p: ['admin ']")).toEqual([
      "p.yaml tools. echo: has leading or trailing whitespace, which tool names do not have: it matches only a name written with it @2:4",
      'p.yaml tools.search: grants the one role "admin, employee"; for several roles, list them: [admin, employee] @3:11',
      'p.yaml prompts.p: grants the role "admin ", whose leading or trailing whitespace a token\'s role would need too @5:6',
    ]);
  });
});

describe("rules that silently stop nothing or deny more than they say", () => {
  it("a require rule on one kind denies every item of the others", () => {
    expect(lines("tools:\n  '*': ['*']\nrules:\n- require: 'mcp.tool.name != \"wipe\"'\n- require: '!has(mcp.tool) || mcp.tool.name != \"wipe\"'")).toEqual([
      "p.yaml rules[0]: denies every prompt and every resource: it reads mcp.tool, which prompts and resources do not have, and an evaluation error counts as false (write !has(mcp.tool) || ... to require it of tools only) @4:13",
    ]);
  });

  it("given the backend's tools, a rule about a tool it does not have", () => {
    const text = "tools:\n  '*': ['*']\nrules:\n- deny: 'mcp.tool.name == \"delte_all\"'\n- deny: 'mcp.tool.name.startsWith(\"maint_\")'\n- deny: 'mcp.tool.name in [\"wipe\", \"wpie\"]'";
    expect(lines(text, { tools: ["delete_all", "wipe"] })).toEqual([
      'p.yaml rules[0]: is about tool "delte_all", which the backend does not have, so it denies nothing @4:10',
      'p.yaml rules[1]: is about tools whose names start with "maint_", which the backend does not have, so it denies nothing @5:10',
      'p.yaml rules[2]: is about tool "wpie", which the backend does not have @6:10',
    ]);
    expect(lint(text)).toEqual([]);
  });

  it("a document left in dry run", () => {
    expect(lines("description: x\ndryRun: true\nrules:\n- deny: 'jwt.sub == \"mallory\"'")).toEqual([
      "p.yaml dryRun: is true: the document's grants and rules are logged as they would decide, and never enforced (none of its deny rules stops anything); remove dryRun to enforce it @2:1",
    ]);
  });
});

describe("shadowing, with template grants", () => {
  it("a URI a template grant covers is shadowed by it; a template only by a glob that covers its text", () => {
    const text = "resources:\n  'docs://x/{id}': [a]\n  'docs://x/1': [a]\n  'docs://y/{id}': [a]\n  'docs://y/{other}': [a]\n  'docs://z/{id}': [a]\n  'docs://z/*': [a]";
    expect(lint(text).map((f) => `${f.origin}: ${f.message}`)).toEqual([
      "p.yaml resources.docs://x/1: is shadowed: p.yaml resources.docs://x/{id} already allows it for the same roles",
      "p.yaml resources.docs://z/{id}: is shadowed: p.yaml resources.docs://z/* already allows it for the same roles",
    ]);
  });
});

describe("a grant whose condition never holds", () => {
  it("on the one item an exact grant names", () => {
    const text = "tools:\n  transfer: { roles: [a], when: 'mcp.tool.name == \"tranfser\" && mcp.tool.arguments.amount < 10' }\n  pay: { roles: [a], when: 'mcp.tool.arguments.amount < 10' }";
    expect(lines(text)).toEqual(['p.yaml tools.transfer: grants nothing: its when condition can hold for no caller and no arguments on tool "transfer" @2:3']);
  });
});
