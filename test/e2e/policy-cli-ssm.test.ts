/**
 * `mcp-sso-gateway policy push | pull | diff | history | rollback` as a user runs them: the real CLI as a child
 * process, against an SSM-compatible endpoint (moto, reached through AWS_ENDPOINT_URL_SSM set by the global setup),
 * each test under its own random policy path. What is written is checked with the SDK and with the gateway's reader.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SsmPolicySource } from "../../functions/policy/sources.js";
import { validatePolicyTexts } from "../../functions/policy/validate-documents.js";
import { SEED_PARAMETER_NAME } from "../../lib/mcp-sso-gateway.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { cleanEnv, runCli, type CliRun } from "../support/demo-process.js";
import { connectClient, gatewaySettings, startGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const ssm = new SSMClient({});
let dir: string;

const ECHO = "# everyone may echo\ntools:\n  echo: ['*']\n";
const SEARCH = "# everyone may search\ntools:\n  search_docs: ['*']\n";

/** The real CLI, in the directory holding the test's files (so messages name them as a user typed them). */
function policy(...args: string[]): Promise<CliRun> {
  // The SDK's Node 20 deprecation notice would otherwise precede every message on stderr.
  return runCli(["policy", ...args], { cwd: dir, env: cleanEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }) });
}

async function file(name: string, text: string): Promise<string> {
  await writeFile(join(dir, name), text);
  return name;
}

const newPath = () => `/mcp-sso-gateway-test/cli-${randomUUID()}`;

/** The parameter as SSM holds it now, or "missing". */
async function stored(name: string): Promise<{ value?: string; version?: number; type?: string } | "missing"> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    return { value: Parameter?.Value, version: Parameter?.Version, type: Parameter?.Type };
  } catch (err) {
    if ((err as Error).name === "ParameterNotFound") return "missing";
    throw err;
  }
}

/** Writes versions straight to SSM, for tests about reading them (push is tested on its own). */
async function seed(name: string, ...texts: string[]): Promise<void> {
  for (const text of texts) await ssm.send(new PutParameterCommand({ Name: name, Value: text, Type: "String", Overwrite: true }));
}

async function tierOf(name: string): Promise<string | undefined> {
  const { Parameters } = await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: "Name", Option: "Equals", Values: [name] }] }));
  return Parameters?.[0]?.Tier;
}

/** A failure the user can act on: the exit code, a message on stderr without a stack trace, nothing on stdout. */
function expectFailure(run: CliRun, code: number): string {
  expect(run.code, run.stdout).toBe(code);
  expect(run.stdout).toBe("");
  expect(run.stderr).not.toMatch(/^\s+at /m);
  return run.stderr;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mcp-sso-policy-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("policy push", () => {
  it("writes a valid document as a String parameter named after the file, and a second push makes version 2", async () => {
    const path = newPath();
    const first = await policy("push", await file("main.yaml", ECHO), "--path", path);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(`pushed ${path}/main version 1 (Standard)`);
    expect(await stored(`${path}/main`)).toEqual({ value: ECHO, version: 1, type: "String" });

    const second = await policy("push", await file("other-file.yaml", SEARCH), "--path", `${path}/`, "--name", "main");
    expect(second.stdout.trim()).toBe(`pushed ${path}/main version 2 (Standard)`);
    expect(await stored(`${path}/main`)).toMatchObject({ value: SEARCH, version: 2 });
  });

  it.each([
    ["bad YAML", "bad-yaml.yaml", "tools:\n  echo: [admin\n  add: [admin]\n", /bad-yaml\.yaml: not valid YAML or JSON: .*line 3, column 3/],
    ["an unknown key", "unknown-key.yaml", "tools:\n  echo: [admin]\ntool:\n  add: [admin]\n", /unknown-key\.yaml: .*"tool"/],
    ["a role list that is empty", "empty-roles.yaml", "tools:\n  echo: []\n", /empty-roles\.yaml: tools\.echo: /],
    ["CEL that does not parse", "bad-cel.yaml", "rules:\n- 'true'\n- 'mcp.tool.name =='\n", /bad-cel\.yaml rules\[1\]: CEL does not parse/],
    ["CEL with an unknown variable", "bad-var.yaml", "rules:\n- deny: 'request.ip == \"1.2.3.4\"'\n", /bad-var\.yaml rules\[0\]: CEL is not valid here: unknown variable request .*\(line 2, column 10\)/],
  ])("refuses %s, naming the document and the place, and writes nothing", async (_, name, text, message) => {
    const path = newPath();
    const parameter = `${path}/${name.replace(/\.yaml$/, "")}`;
    await seed(parameter, ECHO);
    const stderr = expectFailure(await policy("push", await file(name, text), "--path", path), 1);
    expect(stderr).toMatch(/^refused, nothing written: /);
    expect(stderr).toMatch(message);
    expect(await stored(parameter)).toMatchObject({ value: ECHO, version: 1 });
  });

  it("reads the other documents under the path and refuses a push while the merged policy would not load", async () => {
    const path = newPath();
    await ssm.send(new PutParameterCommand({ Name: `${path}/team/search`, Value: SEARCH, Type: "SecureString" }));
    await seed(`${path}/echo`, ECHO);
    const dryRun = await policy("push", await file("more.yaml", "prompts:\n  summarize: ['*']\n"), "--path", path, "--dry-run-check");
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toMatch(`would push ${path}/more (Standard): more.yaml is valid, and so is the merged policy of 3 document(s) under ${path}; nothing written`);
    expect(await stored(`${path}/more`)).toBe("missing");

    // Valid on its own, but the gateway merges it with a broken neighbour and would load nothing: refused, named.
    await ssm.send(new PutParameterCommand({ Name: `${path}/broken`, Value: "rules:\n- 'jwt.sub =='\n", Type: "String" }));
    const stderr = expectFailure(await policy("push", "more.yaml", "--path", path), 1);
    expect(stderr).toContain(`with more.yaml as ${path}/more, the merged policy under ${path} would not load: ${path}/broken rules[0]: CEL does not parse`);
    expect(await stored(`${path}/more`)).toBe("missing");

    // The document being replaced is not held against its replacement: pushing a fix over the broken one works.
    const fix = await policy("push", "more.yaml", "--path", path, "--name", "broken");
    expect(fix.stdout.trim()).toBe(`pushed ${path}/broken version 2 (Standard)`);
  });

  it("chooses the Advanced tier for a 5 KB document, keeps it, and refuses more than 8 KB", async () => {
    const path = newPath();
    const tools = (count: number) => `tools:\n${Array.from({ length: count }, (_, i) => `  tool_${String(i).padStart(4, "0")}: [admin]\n`).join("")}`;
    const fiveKb = tools(256);
    expect(Buffer.byteLength(fiveKb)).toBeGreaterThan(5000);
    const big = await policy("push", await file("big.yaml", fiveKb), "--path", path);
    expect(big.stdout.trim()).toBe(`pushed ${path}/big version 1 (Advanced)`);
    expect(await tierOf(`${path}/big`)).toBe("Advanced");

    // SSM cannot turn an Advanced parameter back into a Standard one, so a smaller push stays Advanced.
    const small = await policy("push", await file("small.yaml", ECHO), "--path", path, "--name", "big");
    expect(small.stdout.trim()).toBe(`pushed ${path}/big version 2 (Advanced)`);

    const tooBig = tools(420);
    expect(Buffer.byteLength(tooBig)).toBeGreaterThan(8192);
    const stderr = expectFailure(await policy("push", await file("huge.yaml", tooBig), "--path", path), 1);
    expect(stderr).toMatch(/huge\.yaml is \d+ bytes, and an SSM parameter holds at most 8192 \(Advanced tier\)/);
    expect(await stored(`${path}/huge`)).toBe("missing");
  });

  it("refuses the stack's own parameter, and a SecureString it would store unencrypted", async () => {
    const path = newPath();
    const stack = expectFailure(await policy("push", await file("main.yaml", ECHO), "--path", path, "--name", SEED_PARAMETER_NAME), 1);
    expect(stack).toMatch(`${path}/${SEED_PARAMETER_NAME} is owned by the CDK stack`);
    expect(await stored(`${path}/${SEED_PARAMETER_NAME}`)).toBe("missing");

    await ssm.send(new PutParameterCommand({ Name: `${path}/secret`, Value: SEARCH, Type: "SecureString" }));
    expect(expectFailure(await policy("push", "main.yaml", "--path", path, "--name", "secret"), 1)).toMatch(`${path}/secret is a SecureString`);
    expect(await stored(`${path}/secret`)).toMatchObject({ value: SEARCH, version: 1, type: "SecureString" });
  });

  it("reports SSM's refusal in one line naming the parameter", async () => {
    const stderr = expectFailure(await policy("push", await file("main.yaml", ECHO), "--path", "/aws/reserved"), 1);
    expect(stderr.trim()).toMatch(/^could not write \/aws\/reserved\/main: AccessDeniedException: .+$/);
  });
});

describe("policy pull", () => {
  it("prints one document exactly as stored, or all of them with their names and versions", async () => {
    const path = newPath();
    // Three versions of search, the last without a final newline: pull must give it back byte for byte.
    await seed(`${path}/search`, "tools: {}\n", "tools: {}\n", SEARCH.trimEnd());
    await seed(`${path}/echo`, ECHO);

    const one = await policy("pull", "--path", path, "--name", "search");
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toBe(SEARCH.trimEnd());

    const all = await policy("pull", "--path", path);
    expect(all.stdout).toBe(`# ${path}/echo (version 1)\n${ECHO}\n# ${path}/search (version 3)\n${SEARCH}`);
  });

  it("says so when there is nothing to pull", async () => {
    const path = newPath();
    expect(expectFailure(await policy("pull", "--path", path), 1).trim()).toBe(`no policy documents under ${path}`);
    expect(expectFailure(await policy("pull", "--path", path, "--name", "main"), 1).trim()).toBe(`no policy document ${path}/main`);
  });
});

describe("policy diff", () => {
  it("exits 0 when the file is what is stored, 1 with a unified diff when not, 2 on errors", async () => {
    const path = newPath();
    await seed(`${path}/main`, ECHO);
    const same = await policy("diff", await file("main.yaml", ECHO), "--path", path);
    expect(same).toMatchObject({ code: 0, stdout: "" });

    await file("main.yaml", ECHO.replace("echo: ['*']", "echo: [admin]"));
    const different = await policy("diff", "main.yaml", "--path", path);
    expect(different.code, different.stderr).toBe(1);
    expect(different.stdout).toBe(
      `--- ${path}/main\tversion 1\n+++ main.yaml\n@@ -1,3 +1,3 @@\n # everyone may echo\n tools:\n-  echo: ['*']\n+  echo: [admin]\n`,
    );

    expect(expectFailure(await policy("diff", "main.yaml", "--path", path, "--name", "none"), 2).trim()).toBe(`no policy document ${path}/none to compare main.yaml with`);
  });
});

describe("policy history and rollback", () => {
  it("lists versions newest first, with date, user and what each changed", async () => {
    const path = newPath();
    await seed(`${path}/main`, ECHO, SEARCH, "# nothing at all\ntools: {}\n");
    const run = await policy("history", "--path", path, "--name", "main");
    expect(run.code, run.stderr).toBe(0);
    const [title, header, ...rows] = run.stdout.trim().split("\n");
    expect(title).toBe(`${path}/main`);
    expect(header).toMatch(/^VERSION\s+DATE\s+USER\s+CHANGE$/);
    expect(rows.map((row) => row.split(/\s{2,}/))).toEqual([
      ["3", expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/), expect.any(String), "+2 -3 lines: tools.search_docs removed"],
      ["2", expect.any(String), expect.any(String), "+2 -2 lines: tools.search_docs added, tools.echo removed"],
      ["1", expect.any(String), expect.any(String), "created, 3 lines"],
    ]);
    expect(expectFailure(await policy("history", "--path", path, "--name", "nope"), 1).trim()).toMatch(
      new RegExp(`^could not read the history of ${path}/nope: ParameterNotFound`),
    );
  });

  it("restores an old version's content as a new version, which the gateway's reader then loads", async () => {
    const path = newPath();
    await seed(`${path}/main`, ECHO, SEARCH);
    const run = await policy("rollback", "--path", path, "--name", "main", "--to", "1");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe(`rolled back ${path}/main to the content of version 1 as version 3`);
    expect(await stored(`${path}/main`)).toMatchObject({ value: ECHO, version: 3 });

    const loaded = await new SsmPolicySource(path).load();
    expect(loaded).toEqual([{ origin: `${path}/main`, text: ECHO }]);
    expect(validatePolicyTexts(loaded).policy.origins).toEqual([`${path}/main`]);

    expect(expectFailure(await policy("rollback", "--path", path, "--name", "main", "--to", "7"), 1).trim()).toBe(
      `no version 7 of ${path}/main (it has versions 1 to 3; SSM keeps the last 100)`,
    );
  });

  it("refuses to bring back a version the gateway would not load", async () => {
    const path = newPath();
    await seed(`${path}/main`, "tools: [echo]\n", ECHO);
    const stderr = expectFailure(await policy("rollback", "--path", path, "--name", "main", "--to", "1"), 1);
    expect(stderr).toMatch(`refused, nothing written: ${path}/main version 1: tools: `);
    expect(await stored(`${path}/main`)).toMatchObject({ value: ECHO, version: 2 });
  });
});

describe("usage", () => {
  it.each(["push", "pull", "diff", "history", "rollback"])("%s --help", async (subcommand) => {
    const help = await policy(subcommand, "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: mcp-sso-gateway policy ${subcommand} .*--path PATH`));
  });

  it("names what is missing or malformed, with exit code 2 and no stack trace", async () => {
    const mistake = await policy("pull", "--path", "/p", "--bogus");
    expect(mistake.code).toBe(2);
    expect(mistake.stderr).toMatch(/^Unknown option '--bogus'/);
    expect(mistake.stderr).not.toMatch(/^\s+at /m);
    expect(expectFailure(await policy("diff", "missing.yaml", "--path", "/p"), 2)).toMatch(/^could not read missing\.yaml: ENOENT/);
    expect((await policy("push", "main.yaml")).stderr).toMatch(/^--path is required/);
    expect((await policy("push", "--path", "/p")).stderr).toMatch(/^expected FILE, got none/);
    expect((await policy("push", "main.yaml", "--path", "relative/path")).stderr).toMatch(/^--path must be an SSM path/);
    expect((await policy("push", "my policy.yaml", "--path", "/p")).stderr).toMatch(/not "my policy" \(taken from the file name my policy\.yaml\); give one with --name/);
    expect((await policy("rollback", "--path", "/p", "--name", "main", "--to", "last")).stderr).toMatch(/^--to takes a version number, not "last"/);
    expect((await policy("history", "--path", "/p")).code).toBe(2);
  });
});

describe("with a running gateway", () => {
  let idp: TestIdentityProvider;
  let backend: TestBackend;
  beforeAll(async () => {
    idp = await startIdentityProvider();
    backend = await startBackend();
  });
  afterAll(async () => {
    await backend?.close();
    await idp?.close();
  });

  it("enforces what was pushed, and what was rolled back, without a restart", async () => {
    const path = newPath();
    await policy("push", await file("main.yaml", ECHO), "--path", path);
    const gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_SSM_PATH: path, POLICY_CACHE_SECONDS: "0" }));
    const jsmith = await idp.token({ subject: "jsmith" });
    const toolsSeen = async () => {
      const client = await connectClient(gateway.url, jsmith);
      try {
        return (await client.listTools()).tools.map((t) => t.name);
      } finally {
        await client.close();
      }
    };
    try {
      expect(await toolsSeen()).toEqual(["echo"]);
      await policy("push", await file("main.yaml", SEARCH), "--path", path);
      expect(await toolsSeen()).toEqual(["search_docs"]);
      await policy("rollback", "--path", path, "--name", "main", "--to", "1");
      expect(await toolsSeen()).toEqual(["echo"]);
    } finally {
      await gateway.close();
    }
  });
});
