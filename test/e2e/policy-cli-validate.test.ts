/** `mcp-sso-gateway policy validate`, run as an admin runs it: every example policy, errors, lint, exit codes. */
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../support/demo-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const validate = (...args: string[]) => runCli(["policy", "validate", ...args], { cwd: ROOT, env: cleanEnv() });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "validate-"));
});

describe("policy validate", () => {
  it("accepts every example policy in policies/", async () => {
    const examples = (await readdir(join(ROOT, "policies"))).filter((f) => f.endsWith(".yaml") && !f.endsWith(".test.yaml"));
    expect(examples.length).toBeGreaterThanOrEqual(6);
    for (const example of examples) {
      const run = await validate(`policies/${example}`);
      expect({ example, code: run.code, out: run.stdout }).toMatchObject({ example, code: 0, out: expect.stringContaining(`valid: policies/${example}`) });
    }
  });

  it("refuses an invalid document with where and what, exit 1", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, "tools:\n  echo: []\nrules:\n- 'mcp.tool.name =='\n");
    const run = await validate(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`invalid: ${file}: tools.echo: must be a role name, a non-empty list of role names, or { roles, when }`);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses CEL that does not compile, naming the rule", async () => {
    const file = join(dir, "cel.yaml");
    await writeFile(file, "rules:\n- 'true'\n- 'request.method == \"GET\"'\n");
    const run = await validate(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${file} rules[1]: CEL is not valid here`);
  });

  it("refuses a misspelt field in a deny rule, which would never hold, with the file, line and column", async () => {
    const file = join(dir, "typo.yaml");
    await writeFile(file, "tools:\n  echo: ['*']\nrules:\n- deny: 'mcp.tool.nme == \"echo\"'\n");
    const run = await validate(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`invalid: ${file} rules[0]: CEL is not valid here: mcp.tool has no field nme (its fields: name, target, arguments) (line 4, column 19)\n`);
  });

  it("refuses a template grant with an operator, naming the key and its line", async () => {
    const file = join(dir, "operator.yaml");
    await writeFile(file, "resources:\n  'docs://{+path}': [admin]\n");
    const run = await validate(file);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^invalid: ${file}: resources\\["docs://\\{\\+path\\}"\\]: \\{\\+path\\} uses the RFC 6570 operator \\+.* \\(line 2, column \\d+\\)\\n$`));
  });

  it("warns of grants that can match nothing, with line and column; --strict fails on them", async () => {
    const file = join(dir, "nothing.yaml");
    await writeFile(file, "resources:\n  'docs://{}': [admin]\n  readme: [admin]\n  'demo://resource/dynamic/text/{resourceId}': [admin]\n");
    const [run, strict] = await Promise.all([validate(file), validate(file, "--strict")]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toEqual([
      `warning: ${file} resources.docs://{} can match nothing: {} names no variable, so it is no template and matches no URI (line 2, column 4)`,
      `warning: ${file} resources.readme is not a URI: it has no scheme (such as docs:), and MCP names resources by URI, so no resource a backend serves has it (line 3, column 3)`,
      `valid: ${file} (3 rules, 2 warnings)`,
      "",
    ]);
    expect(strict.code).toBe(1);
  });

  it("warns of a deny that a missing claim keeps from holding, at the read, with the guarded form; --strict fails on it", async () => {
    const file = join(dir, "fails-open.yaml");
    await writeFile(file, "rules:\n- 'true'\n- deny: '!(\"admin\" in jwt.roles)'\n- deny: 'jwt.sub == \"mallory\"'\n");
    const [run, strict] = await Promise.all([validate(file), validate(file, "--strict")]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toEqual([
      `warning: ${file} rules[1] reads jwt.roles without has(jwt.roles): for a token without that claim the condition is an evaluation error, so false, and this deny does not hold for it (nor for a claim of another type, such as one string where a list was expected); write !has(jwt.roles) || !("admin" in jwt.roles) for it to hold for tokens without the claim (line 3, column 23)`,
      `valid: ${file} (3 rules, 1 warning)`,
      "",
    ]);
    expect(strict.code).toBe(1);
  });

  it("validates several files together, as documents under one path are merged", async () => {
    const run = await validate("policies/walkthrough.yaml", "policies/native-roles.yaml");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("valid: policies/walkthrough.yaml, policies/native-roles.yaml (6 rules, ");
  });

  it("lints with the facts given: claims from a sample token, the backend's tools from a tools/list result", async () => {
    const tools = join(dir, "tools.json");
    await writeFile(tools, JSON.stringify({ tools: [{ name: "echo" }, { name: "wipe" }] }));
    const token = `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from('{"sub":"a","groups":["x"]}').toString("base64url")}.sig`;
    const run = await validate("policies/walkthrough.yaml", "--token", token, "--tools", tools);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("warning: policies/walkthrough.yaml rules[0] reads jwt.roles, which the tokens do not carry");
    expect(run.stdout).toContain("warning: tool wipe is matched by no rule: nobody can see or call it");
  });

  it("lints server by server given each server's tools, and names a servers section of no listed server", async () => {
    const tools = join(dir, "server-tools.json");
    await writeFile(tools, JSON.stringify({ github: { tools: [{ name: "search_code" }, { name: "merge" }] }, confluence: [{ name: "search" }] }));
    const run = await validate("policies/multi-server.yaml", "--tools", tools);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "warning: policies/multi-server.yaml servers.jira names a server the tool lists do not have (they list github, confluence): unless the gateway has a server of that name, its grants apply to nothing (line 13, column 3)",
    );
    expect(run.stdout).toContain("warning: policies/multi-server.yaml servers.github.tools.create_pull_request matches no tool of server github (line 10, column 7)");
    expect(run.stdout).toContain("warning: server confluence tool search is matched by no rule: nobody can see or call it");
    const badName = join(dir, "bad-server.json");
    await writeFile(badName, JSON.stringify({ GitHub: [] }));
    const usage = await validate("policies/multi-server.yaml", "--tools", badName);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain(`--tools ${badName}: "GitHub" is not a server name`);
  });

  it("exits 1 on lint findings with --strict, and 2 on usage errors", async () => {
    expect((await validate("policies/walkthrough.yaml", "--claims", "sub", "--strict")).code).toBe(1);
    const usage = await validate();
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("policy validate needs at least one FILE");
  });
});
