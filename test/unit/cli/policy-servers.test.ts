/**
 * The policy CLI names the server an item belongs to: `explain --server`, a test case's `server:`, and `validate
 * --tools` with each server's tools. Server names are checked as the gateway checks them.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import explain, { parseExplainArgs } from "../../../functions/cli/policy/explain.js";
import { describeItem, policyItem, resourceTemplateItem } from "../../../functions/cli/policy/identity-input.js";
import policyTest from "../../../functions/cli/policy/test.js";
import { toolFacts } from "../../../functions/cli/policy/tool-lists.js";
import { UsageError } from "../../../functions/cli/usage-error.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";
import { lintPolicy } from "../../../functions/policy/lint.js";

const NOT_A_SERVER_NAME = "is not a server name: a server name is 1 to 63 lower-case letters, digits and hyphens ([a-z0-9-]{1,63})";

/** The message of a UsageError that `run` must throw (fails the test when it does not). */
async function usage(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error("accepted");
}

/** What `run` prints with console.log, line by line, and what it resolves to. */
async function printed(run: () => Promise<number>): Promise<{ code: number; lines: string[] }> {
  const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
  try {
    const code = await run();
    return { code, lines: log.mock.calls.flatMap((call) => String(call[0]).split("\n")) };
  } finally {
    log.mockRestore();
  }
}

let dir: string;
const EXAMPLE = new URL("../../../policies/multi-server.yaml", import.meta.url);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "policy-servers-"));
  // The example under its own name, so that rules are named after it (multi-server.yaml ...) from any directory.
  await writeFile(join(dir, "multi-server.yaml"), await readFile(EXAMPLE, "utf8"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the item's server", () => {
  it("is the item's target, shown after its name", () => {
    expect(policyItem("tool", "search", undefined, "github")).toEqual({ kind: "tool", name: "search", target: "github" });
    expect(policyItem("tool", "search")).toEqual({ kind: "tool", name: "search" });
    expect(resourceTemplateItem("repo://{name}", "github")).toEqual({ kind: "resource", name: "repo://{name}", target: "github", template: true });
    expect(describeItem(policyItem("tool", "search", undefined, "github"))).toBe("tool search on server github (listing)");
    expect(describeItem(policyItem("tool", "transfer", { amount: 5 }, "bank"))).toBe('tool transfer on server bank with arguments {"amount":5}');
    expect(describeItem(policyItem("prompt", "triage", undefined, "jira"))).toBe("prompt triage on server jira");
    expect(describeItem(resourceTemplateItem("repo://{name}", "github"))).toBe("resource template repo://{name} on server github");
    expect(describeItem(policyItem("tool", "search"))).toBe("tool search (listing)");
  });
});

describe("policy explain --server", () => {
  it("reads the server, and leaves it out when not given", () => {
    expect(parseExplainArgs(["a.yaml", "--claims", "{}", "--tool", "search", "--server", "github"])).toMatchObject({ kind: "tool", name: "search", server: "github" });
    expect(parseExplainArgs(["a.yaml", "--claims", "{}", "--resource-template", "r://{x}", "--server=a-b"])).toMatchObject({ template: true, server: "a-b" });
    expect(parseExplainArgs(["a.yaml", "--claims", "{}", "--tool", "search"])?.server).toBeUndefined();
  });

  it.each(["GitHub", "git_hub", "a".repeat(64), "git hub"])("refuses %s, which no server of the gateway can be named", async (name) => {
    expect(await usage(() => parseExplainArgs(["a.yaml", "--claims", "{}", "--tool", "t", "--server", name]))).toBe(`--server: ${JSON.stringify(name)} ${NOT_A_SERVER_NAME}`);
  });

  it("refuses an empty --server, and one given twice", async () => {
    expect(await usage(() => parseExplainArgs(["a.yaml", "--claims", "{}", "--tool", "t", "--server", " "]))).toBe("--server must not be empty");
    expect(await usage(() => parseExplainArgs(["a.yaml", "--claims", "{}", "--tool", "t", "--server", "a", "--server", "b"]))).toMatch(/^--server is given 2 times \("a", "b"\); give it once/);
  });

  it("judges the item of that server, naming the server grant that decided", async () => {
    const developer = '{"sub":"jsmith","roles":["developer"]}';
    const policy = join(dir, "multi-server.yaml");
    const onGithub = await printed(() => explain.run([policy, "--claims", developer, "--tool", "search_code", "--server", "github"]));
    expect(onGithub).toEqual({
      code: 0,
      lines: [`ALLOW tool search_code on server github (listing) for sub=jsmith roles=[developer]: allowed by ${policy} servers.github.tools.search_*`],
    });
    const ofNoServer = await printed(() => explain.run([policy, "--claims", developer, "--tool", "search_code"]));
    expect(ofNoServer).toEqual({ code: 1, lines: ["DENY tool search_code (listing) for sub=jsmith roles=[developer]: no rule allows it (default deny)"] });
  });
});

describe("policy test: a case's server", () => {
  const HEADER = "policy: multi-server.yaml\nidentities:\n  dev: { sub: jsmith, roles: [developer] }\ncases:\n";

  it("runs cases against the example policy, each judged as an item of its server", async () => {
    const path = join(dir, "servers.test.yaml");
    await writeFile(
      path,
      [
        HEADER.trimEnd(),
        "  - { as: dev, tool: search_code, server: github, expect: allow, rule: multi-server.yaml servers.github.tools.search_* }",
        "  - { as: dev, tool: search_code, expect: deny, rule: null }",
        "  - { claims: { sub: rm, roles: [release-manager] }, tool: merge, server: github, expect: allow, rule: 'multi-server.yaml rules[0]' }",
        "  - { claims: { sub: rm, roles: [release-manager] }, tool: merge, server: jira, expect: deny }",
        "  - { claims: { sub: a, roles: [jira-admin] }, tool: delete_issue, server: jira, expect: allow }",
      ].join("\n"),
    );
    const run = await printed(() => policyTest.run([path]));
    expect(run.code).toBe(1);
    expect(run.lines).toEqual([
      "ok   cases[0]: ALLOW tool search_code on server github (listing) for dev: allowed by multi-server.yaml servers.github.tools.search_*",
      "ok   cases[1]: DENY tool search_code (listing) for dev: no rule allows it (default deny)",
      "ok   cases[2]: ALLOW tool merge on server github (listing) for sub=rm roles=[release-manager]: allowed by multi-server.yaml rules[0]",
      "ok   cases[3]: DENY tool merge on server jira (listing) for sub=rm roles=[release-manager]: no rule allows it (default deny)",
      "FAIL cases[4]: expected allow, got DENY tool delete_issue on server jira (listing) for sub=a roles=[jira-admin]: denied by multi-server.yaml rules[1]",
      "4 passed, 1 failed",
    ]);
  });
});

describe("policy validate --tools: one backend's tools, or each server's", () => {
  const file = async (name: string, content: unknown) => {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(content));
    return path;
  };

  it("reads one backend's tools as before: names, a list, a tools/list result, a JSON-RPC response", async () => {
    expect(await toolFacts("echo, add,")).toEqual({ tools: ["echo", "add"] });
    expect(await toolFacts(await file("list.json", ["echo", { name: "add" }]))).toEqual({ tools: ["echo", "add"] });
    expect(await toolFacts(await file("result.json", { tools: [{ name: "echo" }], nextCursor: "2" }))).toEqual({ tools: ["echo"] });
    expect(await toolFacts(await file("response.json", { jsonrpc: "2.0", id: 1, result: { tools: [{ name: "echo" }] } }))).toEqual({ tools: ["echo"] });
  });

  it("reads an object keyed by server names as each server's tools, in any of those forms", async () => {
    const path = await file("servers.json", { github: [{ name: "search_code" }], jira: { tools: [{ name: "search_issues" }] }, "a-b": ["x"] });
    expect(await toolFacts(path)).toEqual({ serverTools: { github: ["search_code"], jira: ["search_issues"], "a-b": ["x"] } });
  });

  it("refuses a key that is no server name, a server's value that is no tool list, and an empty object", async () => {
    const badName = await file("bad-name.json", { GitHub: [] });
    expect(await usage(() => toolFacts(badName))).toBe(`--tools ${badName}: "GitHub" ${NOT_A_SERVER_NAME}`);
    const badList = await file("bad-list.json", { github: { name: "search_code" } });
    expect(await usage(() => toolFacts(badList))).toBe(`--tools ${badList}: server github: expected a list of names or tools, or a tools/list result with "tools"`);
    const empty = await file("empty.json", {});
    expect(await usage(() => toolFacts(empty))).toMatch(/: expected a list of names or tools, a tools\/list result with "tools", or an object mapping server names to those$/);
  });

  it("finds the example policy clean, alone and with the tools of the servers it names", async () => {
    const documents = [parsePolicyDocument({ origin: "multi-server.yaml", text: await readFile(EXAMPLE, "utf8") })];
    expect(lintPolicy(documents)).toEqual([]);
    const serverTools = { github: ["search_code", "create_pull_request", "merge", "ping"], jira: ["search_issues", "create_issue", "delete_issue", "ping"] };
    expect(lintPolicy(documents, { serverTools })).toEqual([]);
  });
});
