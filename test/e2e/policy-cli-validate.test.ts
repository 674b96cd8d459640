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

  it("exits 1 on lint findings with --strict, and 2 on usage errors", async () => {
    expect((await validate("policies/walkthrough.yaml", "--claims", "sub", "--strict")).code).toBe(1);
    const usage = await validate();
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("policy validate needs at least one FILE");
  });
});
