/**
 * The native form scoped to a server: grants under `servers.<name>` apply to that server's items only (PolicyItem.target),
 * the top-level ones to the items of every server. Names, merges and refusals as for the top-level sections.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePolicy, type CompiledPolicy } from "../../../functions/policy/compile.js";
import { decide, decider } from "../../../functions/policy/decide.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import type { Identity, ItemKind, PolicyItem } from "../../../functions/policy/types.js";
import { loadPolicyText, policyRefusal } from "../../support/policy-text.js";

/** Compiles documents named a.yaml, b.yaml, ... in order. */
function policy(...texts: string[]): CompiledPolicy {
  return compilePolicy(texts.map((text, i) => parsePolicyDocument({ origin: `${String.fromCharCode(97 + i)}.yaml`, text })));
}
const dev: Identity = { subject: "jsmith", claims: { sub: "jsmith", roles: ["dev"] }, roles: ["dev"], scopes: [] };
const item = (kind: ItemKind, name: string, target?: string): PolicyItem => ({ kind, name, ...(target === undefined ? {} : { target }) });

const GITHUB = [
  "tools:",
  '  echo: ["*"]',
  "servers:",
  "  github:",
  '    tools: { "search_*": [dev] }',
  "    prompts: { review: [dev] }",
  '    resources: { "repo://{name}": [dev] }',
].join("\n");

describe("servers.<name>: grants for one server's items", () => {
  const github = policy(GITHUB);

  it("allows the server's own items, naming the grant by its place under servers", () => {
    expect(decide(github, dev, item("tool", "search_code", "github"))).toEqual({
      allowed: true,
      rule: "a.yaml servers.github.tools.search_*",
      explanation: "allowed by a.yaml servers.github.tools.search_*",
    });
    expect(decide(github, dev, item("prompt", "review", "github"))).toMatchObject({ allowed: true, rule: "a.yaml servers.github.prompts.review" });
    expect(decide(github, dev, item("resource", "repo://gateway", "github"))).toMatchObject({ allowed: true, rule: "a.yaml servers.github.resources.repo://{name}" });
    expect(decide(github, dev, { kind: "resource", name: "repo://{name}", target: "github", template: true }).allowed).toBe(true);
  });

  it("never allows another server's item of the same name, nor an item of no server", () => {
    for (const target of ["jira", "githu", "github-enterprise", undefined]) {
      expect(decide(github, dev, item("tool", "search_code", target))).toMatchObject({ allowed: false, rule: undefined });
      expect(decide(github, dev, item("prompt", "review", target)).allowed).toBe(false);
      expect(decide(github, dev, item("resource", "repo://gateway", target)).allowed).toBe(false);
    }
  });

  it("keeps the top-level sections for the items of every server, and of none", () => {
    for (const target of ["github", "jira", undefined]) expect(decide(github, dev, item("tool", "echo", target))).toMatchObject({ allowed: true, rule: "a.yaml tools.echo" });
  });

  it("judges every reading of a server's resource URI with that server's grants", () => {
    // REPO://x is read as repo://x by a WHATWG backend too: the grant must cover both, on that server.
    const both = policy(`servers:\n  github:\n    resources: { "repo://*": [dev], "REPO://*": [dev] }`);
    expect(decide(both, dev, item("resource", "REPO://x", "github")).allowed).toBe(true);
    expect(decide(both, dev, item("resource", "REPO://x", "jira")).allowed).toBe(false);
    // The other reading's grant under another server does not count.
    const split = policy(`servers:\n  github:\n    resources: { "REPO://*": [dev] }\n  jira:\n    resources: { "repo://*": [dev] }`);
    expect(decide(split, dev, item("resource", "REPO://x", "github")).allowed).toBe(false);
  });

  it("still requires the roles and the when condition, which may read the target and arguments", () => {
    const p = policy(`servers:\n  bank:\n    tools:\n      transfer: { roles: [dev], when: 'mcp.tool.arguments.amount < 1000 && mcp.tool.target == "bank"' }`);
    const call = (amount: number): PolicyItem => ({ kind: "tool", name: "transfer", target: "bank", arguments: { amount } });
    expect(decide(p, dev, call(50)).allowed).toBe(true);
    expect(decide(p, dev, call(5000)).allowed).toBe(false);
    expect(decide(p, { ...dev, roles: [] }, call(50)).allowed).toBe(false);
    expect(decide(p, dev, item("tool", "transfer", "bank")).allowed).toBe(true);
  });

  it("is filed in the rule index by its key, and judged by its server in a list", () => {
    expect([...github.index.named.prompt.keys()]).toEqual(["review"]);
    expect([...github.index.prefixed.tool.byPrefix.keys()]).toEqual(["search_"]);
    const judge = decider(github, dev);
    const list = [item("tool", "search_a", "github"), item("tool", "search_a", "jira"), item("tool", "search_b", "github"), item("tool", "search_b")];
    expect(list.map((each) => judge(each).allowed)).toEqual([true, false, true, false]);
  });
});

describe("servers.<name> across documents", () => {
  it("combines the grants of several documents, each named after its own document", () => {
    const merged = policy(`servers:\n  github:\n    tools: { search_code: [dev] }`, `servers:\n  github:\n    tools: { create_issue: [dev] }\n  jira:\n    tools: { search_code: [dev] }`);
    expect(decide(merged, dev, item("tool", "search_code", "github")).rule).toBe("a.yaml servers.github.tools.search_code");
    expect(decide(merged, dev, item("tool", "create_issue", "github")).rule).toBe("b.yaml servers.github.tools.create_issue");
    expect(decide(merged, dev, item("tool", "search_code", "jira")).rule).toBe("b.yaml servers.jira.tools.search_code");
    expect(decide(merged, dev, item("tool", "create_issue", "jira")).allowed).toBe(false);
  });

  it("leaves a dry-run document's server grants unenforced, and judges them under dry run", () => {
    const p = policy(`tools: { echo: [dev] }`, `dryRun: true\nservers:\n  github:\n    tools: { search_code: [dev] }`);
    expect(decide(p, dev, item("tool", "search_code", "github")).allowed).toBe(false);
    expect(decide(p.withDryRun!, dev, item("tool", "search_code", "github")).rule).toBe("b.yaml servers.github.tools.search_code");
  });
});

describe("servers: what the document must be", () => {
  const rule = "a server name is 1 to 63 lower-case letters, digits and hyphens ([a-z0-9-]{1,63})";

  it.each([
    ["GitHub", "servers.GitHub", "line 2, column 3"],
    ["git_hub", "servers.git_hub", "line 2, column 3"],
    ["a".repeat(64), `servers.${"a".repeat(64)}`, "line 2, column 3"],
    ['"my server"', 'servers["my server"]', "line 2, column 4"],
    ['""', 'servers[""]', "line 2, column 4"],
  ])("refuses the key %s, naming it", (key, place, position) => {
    const name = key.startsWith('"') ? JSON.parse(key) : key;
    expect(policyRefusal(`servers:\n  ${key}:\n    tools: { x: [a] }`)).toBe(`p.yaml: ${place}: ${JSON.stringify(name)} is not a server name: ${rule} (${position})`);
  });

  it("accepts the names the gateway accepts: digits, hyphens, 63 characters", () => {
    for (const name of ["a", "0", "a-b", "-", "github-enterprise-2", "z".repeat(63)]) {
      expect(() => loadPolicyText(`servers:\n  ${name}:\n    tools: { x: [a] }`)).not.toThrow();
    }
  });

  it("names a bad server key even when its section is wrong too", () => {
    expect(policyRefusal(`servers:\n  GitHub:\n    tool: { x: [a] }`)).toMatch(/^p\.yaml: servers\.GitHub: Unrecognized key: "tool" .*; servers\.GitHub: "GitHub" is not a server name/);
    expect(policyRefusal(`servers:\n  GitHub:\n    tools: [x]\n  Jira:`)).toMatch(
      /^p\.yaml: servers\.GitHub\.tools: .*; servers\.Jira: .*expected object.*; servers\.GitHub: "GitHub" is not a server name.*; servers\.Jira: "Jira" is not a server name/,
    );
  });

  it("checks a server's sections as the top-level ones: keys, roles, templates, conditions", () => {
    expect(policyRefusal(`servers:\n  github:\n    tools: { x: [] }`)).toMatch(/^p\.yaml: servers\.github\.tools\.x: must be a role name, a non-empty list of role names, or \{ roles, when \}/);
    expect(policyRefusal(`servers:\n  github:\n    rules: ['true']`)).toMatch(/^p\.yaml: servers\.github: Unrecognized key: "rules"/);
    expect(policyRefusal(`servers:\n  github:\n    resources: { "docs://{a,b}": [a] }`)).toMatch(/^p\.yaml: servers\.github\.resources\["docs:\/\/\{a,b\}"\]: \{a,b\} lists several variables/);
    expect(policyRefusal(`servers:\n  github:\n    tools:\n      x: { roles: [a], when: 'mcp.tool.nme == "x"' }`)).toBe(
      "p.yaml servers.github.tools.x.when: CEL is not valid here: mcp.tool has no field nme (its fields: name, target, arguments) (line 4, column 40)",
    );
    expect(policyRefusal(`servers: [github]`)).toMatch(/^p\.yaml: servers: .*expected record/);
  });
});

describe("property: a grant under servers.a never allows an item of another server, or of none", () => {
  // Names that are prefixes, suffixes and near misses of each other, so that no comparison by prefix passes.
  const SERVERS = ["a", "a-b", "ab", "a-", "b", "ba", "0", "a-b-c", "github", "github-enterprise", "githu"];
  const NAMES = ["search", "search_code", "s", "", "a", "a-b", "github", "repo://x", "repo://{name}"];
  const PATTERNS = ["*", "search*", "search", "s?", "?", "a*", "repo://*", "repo://{name}"];
  const KINDS: readonly ItemKind[] = ["tool", "prompt", "resource"];

  const grantArb = fc.record({ server: fc.constantFrom(...SERVERS), kind: fc.constantFrom(...KINDS), pattern: fc.constantFrom(...PATTERNS), roles: fc.constantFrom(["*"], ["dev"]) });
  const itemArb = fc.record({ kind: fc.constantFrom(...KINDS), name: fc.constantFrom(...NAMES), target: fc.option(fc.constantFrom(...SERVERS), { nil: undefined }), template: fc.boolean() });

  function documentOf(grants: ReadonlyArray<{ server: string; kind: ItemKind; pattern: string; roles: readonly string[] }>): string {
    const sections: Record<string, Record<string, Record<string, readonly string[]>>> = {};
    for (const { server, kind, pattern, roles } of grants) ((sections[server] ??= {})[`${kind}s`] ??= {})[pattern] = roles;
    return JSON.stringify({ servers: sections });
  }

  it("whatever the names, keys, kinds and documents: the deciding grant is always one of the item's own server", () => {
    fc.assert(
      fc.property(fc.array(fc.array(grantArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }), fc.array(itemArb, { minLength: 1, maxLength: 8 }), (documents, items) => {
        const compiled = policy(...documents.map(documentOf));
        const judge = decider(compiled, dev);
        for (const { kind, name, target, template } of items) {
          const judged: PolicyItem = { kind, name, ...(target === undefined ? {} : { target }), ...(template && kind === "resource" ? { template: true as const } : {}) };
          const decision = judge(judged);
          if (!decision.allowed) continue;
          // Allowed: then by a grant of the item's own server (only server grants exist here).
          expect(target).toBeDefined();
          expect(decision.rule).toMatch(new RegExp(`^[a-z]\\.yaml servers\\.${target!.replace(/-/g, "\\-")}\\.${kind}s\\.`));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("and a grant under servers.a allows its key's items of server a (so the property above can fail)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SERVERS), fc.constantFrom(...SERVERS), (granted, other) => {
        const p = policy(`servers:\n  ${granted}:\n    tools: { search: ["*"] }`);
        expect(decide(p, dev, item("tool", "search", granted)).allowed).toBe(true);
        expect(decide(p, dev, item("tool", "search", other)).allowed).toBe(granted === other);
        expect(decide(p, dev, item("tool", "search")).allowed).toBe(false);
      }),
    );
  });
});
