/**
 * `policy explain` and `policy test`, run as the real CLI (bin/mcp-sso-gateway.js) in a child process, as an admin or
 * a CI job runs them: output, exit codes (explain: 0 allow, 1 deny, 2 usage; test: 0 pass, 1 fail, 2 invalid file),
 * policies from files and from SSM (moto's server, through the global setup's AWS_ENDPOINT_URL_SSM).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DeleteParametersCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliRun } from "../support/demo-process.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const WALKTHROUGH = "policies/walkthrough.yaml";
const NATIVE = "policies/native-roles.yaml";

const cli = (...args: string[]): Promise<CliRun> => runCli(["policy", ...args], { cwd: REPO });

/** A command-line mistake: exit code 2, the message on stderr, no stack trace, nothing on stdout. */
function expectUsageError(run: CliRun, message: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stdout).toBe("");
}

let idp: TestIdentityProvider;
let bossToken: string;
let jsmithToken: string;
let scratch: string;

beforeAll(async () => {
  idp = await startIdentityProvider();
  bossToken = await idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] } });
  jsmithToken = await idp.token({ subject: "jsmith" });
  scratch = await mkdtemp(join(tmpdir(), "policy-cli-"));
});
afterAll(async () => {
  await idp?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("policy explain", () => {
  it("allows the boss echo with a token, naming the rule, exit code 0", async () => {
    const run = await cli("explain", WALKTHROUGH, "--token", bossToken, "--tool", "echo");
    expect(run.stdout).toBe("ALLOW tool echo (listing) for sub=pointy-haired-boss roles=[admin]: allowed by policies/walkthrough.yaml rules[0]\n");
    expect(run.code).toBe(0);
  });

  it("denies jsmith echo by default, exit code 1", async () => {
    const run = await cli("explain", WALKTHROUGH, "--token", jsmithToken, "--tool", "echo");
    expect(run.stdout).toBe("DENY tool echo (listing) for sub=jsmith roles=[]: no rule allows it (default deny)\n");
    expect(run.code).toBe(1);
  });

  it("decodes a token it cannot verify (an offline tool), and says so in --help", async () => {
    const [header, payload] = bossToken.split(".");
    const [run, help] = await Promise.all([
      cli("explain", WALKTHROUGH, "--token", `${header}.${payload}.not-the-signature`, "--tool", "echo"),
      cli("explain", "--help"),
    ]);
    expect(run.code).toBe(0);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/DECODED WITHOUT VERIFICATION/);
  });

  it("takes claims as JSON, and judges a call on its arguments", async () => {
    const claims = JSON.stringify({ sub: "pointy-haired-boss", roles: ["admin"] });
    const [call, other] = await Promise.all([
      cli("explain", WALKTHROUGH, "--claims", claims, "--tool", "echo", "--args", '{"message":"hi"}'),
      cli("explain", WALKTHROUGH, "--claims", claims, "--tool", "get-env", "--list"),
    ]);
    expect(call.stdout).toBe('ALLOW tool echo with arguments {"message":"hi"} for sub=pointy-haired-boss roles=[admin]: allowed by policies/walkthrough.yaml rules[0]\n');
    expect(call.code).toBe(0);
    expect(other.stdout).toMatch(/^DENY tool get-env \(listing\) .*: no rule allows it \(default deny\)\n$/);
    expect(other.code).toBe(1);
  });

  it("judges conditions on arguments: listing when some could pass, each call on its own", async () => {
    const policy = join(scratch, "transfer.yaml");
    await writeFile(policy, "tools:\n  transfer: { roles: [finance], when: 'mcp.tool.arguments.amount < 1000' }\n");
    const claims = JSON.stringify({ sub: "ann", roles: ["finance"] });
    const [listing, small, large] = await Promise.all([
      cli("explain", policy, "--claims", claims, "--tool", "transfer"),
      cli("explain", policy, "--claims", claims, "--tool", "transfer", "--args", '{"amount":50}'),
      cli("explain", policy, "--claims", claims, "--tool", "transfer", "--args", '{"amount":5000}'),
    ]);
    expect([listing.code, listing.stdout]).toEqual([0, `ALLOW tool transfer (listing) for sub=ann roles=[finance]: allowed by ${policy} tools.transfer\n`]);
    expect(small.code).toBe(0);
    expect([large.code, large.stdout]).toEqual([1, 'DENY tool transfer with arguments {"amount":5000} for sub=ann roles=[finance]: no rule allows it (default deny)\n']);
  });

  it("explains prompts and resources, and reads roles from the claim named by --roles-claim", async () => {
    const internal = "docs://internal/handbook";
    const employee = '{"sub":"x","groups":["employee"]}';
    const [anyone, denied, allowed] = await Promise.all([
      cli("explain", NATIVE, "--claims", '{"sub":"x"}', "--prompt", "summarize"),
      cli("explain", NATIVE, "--claims", employee, "--resource", internal),
      cli("explain", NATIVE, "--claims", employee, "--resource", internal, "--roles-claim", "groups"),
    ]);
    expect([anyone.code, anyone.stdout]).toEqual([0, "ALLOW prompt summarize for sub=x roles=[]: allowed by policies/native-roles.yaml prompts.summarize\n"]);
    expect([denied.code, denied.stdout]).toEqual([1, `DENY resource ${internal} for sub=x roles=[]: no rule allows it (default deny)\n`]);
    expect([allowed.code, allowed.stdout]).toEqual([0, `ALLOW resource ${internal} for sub=x roles=[employee]: allowed by policies/native-roles.yaml resources.docs://internal/*\n`]);
  });

  it("names the template grant that allowed an expanded URI, and the reading that refused another", async () => {
    const policy = join(scratch, "templates.yaml");
    await writeFile(policy, "resources:\n  'demo://resource/dynamic/text/{resourceId}': [admin]\n");
    const claims = JSON.stringify({ sub: "ada", roles: ["admin"] });
    const [one, slash] = await Promise.all([
      cli("explain", policy, "--claims", claims, "--resource", "demo://resource/dynamic/text/1"),
      cli("explain", policy, "--claims", claims, "--resource", "demo://resource/dynamic/text/a%2Fb"),
    ]);
    expect([one.code, one.stdout]).toEqual([
      0,
      `ALLOW resource demo://resource/dynamic/text/1 for sub=ada roles=[admin]: allowed by ${policy} resources.demo://resource/dynamic/text/{resourceId}\n`,
    ]);
    expect([slash.code, slash.stdout]).toEqual([
      1,
      'DENY resource demo://resource/dynamic/text/a%2Fb for sub=ada roles=[admin]: as a backend may read it (percent-decoded: "demo://resource/dynamic/text/a/b"), no rule allows it (default deny)\n',
    ]);
  });

  it("judges a resource template as written with --resource-template, as template lists do, naming the grant that decided", async () => {
    const policy = join(scratch, "template-lists.yaml");
    await writeFile(policy, "resources:\n  'demo://resource/dynamic/text/{resourceId}': [admin]\nrules:\n- 'mcp.resource.uri == \"docs://files/{name}\"'\n");
    const [admin, guest] = [JSON.stringify({ sub: "ada", roles: ["admin"] }), JSON.stringify({ sub: "gus" })];
    const [granted, refused, byRule, asUri] = await Promise.all([
      cli("explain", policy, "--claims", admin, "--resource-template", "demo://resource/dynamic/text/{resourceId}"),
      cli("explain", policy, "--claims", guest, "--resource-template", "demo://resource/dynamic/text/{resourceId}"),
      cli("explain", policy, "--claims", guest, "--resource-template", "docs://files/{name}"),
      // The same text read as a URI: a backend may read it WHATWG-normalised, braces percent-encoded.
      cli("explain", policy, "--claims", guest, "--resource", "docs://files/{name}"),
    ]);
    expect([granted.code, granted.stdout]).toEqual([
      0,
      `ALLOW resource template demo://resource/dynamic/text/{resourceId} for sub=ada roles=[admin]: allowed by ${policy} resources.demo://resource/dynamic/text/{resourceId}\n`,
    ]);
    expect([refused.code, refused.stdout]).toEqual([1, "DENY resource template demo://resource/dynamic/text/{resourceId} for sub=gus roles=[]: no rule allows it (default deny)\n"]);
    expect([byRule.code, byRule.stdout]).toEqual([0, `ALLOW resource template docs://files/{name} for sub=gus roles=[]: allowed by ${policy} rules[0]\n`]);
    expect([asUri.code, asUri.stdout]).toEqual([
      1,
      'DENY resource docs://files/{name} for sub=gus roles=[]: as a backend may read it (WHATWG-normalised: "docs://files/%7Bname%7D"), no rule allows it (default deny)\n',
    ]);
  });

  it("shows what documents in dry run would decide, exit code following the decision in force", async () => {
    const dry = join(scratch, "dry.yaml");
    await writeFile(dry, "dryRun: true\nrules:\n- deny: 'jwt.sub == \"pointy-haired-boss\"'\n");
    const run = await cli("explain", WALKTHROUGH, dry, "--token", bossToken, "--tool", "echo");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[1]).toBe(`dry run (with the dryRun documents enforced too): DENY tool echo (listing) for sub=pointy-haired-boss roles=[admin]: denied by ${dry} rules[0]`);
  });

  it("refuses command-line mistakes with exit code 2 and no stack trace", async () => {
    const mistakes: Array<[string[], RegExp]> = [
      [["--token", bossToken, "--tool", "echo"], /give the policy/],
      [[WALKTHROUGH, "--tool", "echo"], /give the caller/],
      [[WALKTHROUGH, "--token", bossToken], /exactly one of --tool/],
      [[WALKTHROUGH, "--token", bossToken, "--resource", "docs://a", "--resource-template", "docs://{a}"], /exactly one of --tool NAME, --prompt NAME, --resource URI, --resource-template URI_TEMPLATE/],
      [[WALKTHROUGH, "--token", "not-a-token", "--tool", "echo"], /--token is not a JWT/],
      [[WALKTHROUGH, "--claims", "{nope", "--tool", "echo"], /--claims is not valid JSON/],
      [[WALKTHROUGH, "--claims", "{}", "--prompt", "p", "--args", "{}"], /--args goes with --tool/],
      [[WALKTHROUGH, "--claims", "{}", "--tool", "echo", "--bogus"], /Unknown option '--bogus'/],
    ];
    // Independent child processes: run together, as each one spends most of its time starting up.
    const runs = await Promise.all(mistakes.map(([args]) => cli("explain", ...args)));
    runs.forEach((run, index) => expectUsageError(run, mistakes[index]![1]));
  }, 60_000);

  it("exits 2 naming the file when the policy cannot be read or is invalid", async () => {
    const broken = join(scratch, "broken.yaml");
    await writeFile(broken, "rules:\n- 'mcp.tool.name =='\n");
    const [missing, invalid] = await Promise.all([
      cli("explain", "policies/missing.yaml", "--claims", "{}", "--tool", "echo"),
      cli("explain", broken, "--claims", "{}", "--tool", "echo"),
    ]);
    expectUsageError(missing, /cannot read policy file policies\/missing\.yaml/);
    expectUsageError(invalid, new RegExp(`the policy is invalid: ${broken} rules\\[0\\]: CEL does not parse`));
  });
});

describe("policy explain --path and policy test with path: (SSM)", () => {
  const ssm = new SSMClient({});
  const path = `/mcp-sso-gateway-test/${randomUUID()}`;
  const names = [`${path}/walkthrough`, `${path}/team/prompts`];

  beforeAll(async () => {
    await ssm.send(new PutParameterCommand({ Name: names[0], Type: "String", Value: `rules:\n- 'mcp.tool.name == "echo" && "admin" in jwt.roles'\n` }));
    await ssm.send(new PutParameterCommand({ Name: names[1], Type: "SecureString", Value: "prompts:\n  summarize: ['*']\n" }));
  });
  afterAll(() => ssm.send(new DeleteParametersCommand({ Names: names })));

  it("judges with every document under the path, naming the parameter", async () => {
    const [echo, prompt] = await Promise.all([
      cli("explain", "--path", path, "--token", bossToken, "--tool", "echo"),
      cli("explain", "--path", path, "--token", jsmithToken, "--prompt", "summarize"),
    ]);
    expect([echo.code, echo.stdout]).toEqual([0, `ALLOW tool echo (listing) for sub=pointy-haired-boss roles=[admin]: allowed by ${path}/walkthrough rules[0]\n`]);
    expect([prompt.code, prompt.stdout]).toEqual([0, `ALLOW prompt summarize for sub=jsmith roles=[]: allowed by ${path}/team/prompts prompts.summarize\n`]);
  });

  it("runs a test file against the path", async () => {
    const file = join(scratch, "ssm.test.yaml");
    await writeFile(file, `path: ${path}\ncases:\n  - { claims: { sub: a, roles: [admin] }, tool: echo, expect: allow, rule: "${path}/walkthrough rules[0]" }\n  - { claims: { sub: b }, prompt: summarize, expect: allow }\n`);
    const run = await cli("test", file);
    expect(run.stdout).toMatch(/\n2 passed, 0 failed\n$/);
    expect(run.code).toBe(0);
  });

  it("runs a test file whose policy: names the path, { path }, reading every document under it as the gateway does", async () => {
    const file = join(scratch, "ssm-policy.test.yaml");
    await writeFile(
      file,
      `policy: { path: ${path}/ }\ncases:\n  - { claims: { sub: a, roles: [admin] }, tool: echo, expect: allow, rule: "${path}/walkthrough rules[0]" }\n  - { claims: { sub: b }, prompt: summarize, expect: allow, rule: "${path}/team/prompts prompts.summarize" }\n  - { claims: { sub: b }, tool: echo, expect: deny, rule: null }\n`,
    );
    const run = await cli("test", file);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/\n3 passed, 0 failed\n$/);
    expect(run.code).toBe(0);
  });

  it("refuses a policy: entry that is no accepted form, naming every form", async () => {
    const file = join(scratch, "bad-policy.test.yaml");
    await writeFile(file, `policy: { ssmPath: ${path} }\ncases:\n  - { claims: { sub: a }, tool: echo, expect: deny }\n`);
    const run = await cli("test", file);
    expectUsageError(run, /invalid test file/);
    expect(run.stderr).toContain('policy: unknown key "ssmPath" (allowed: path, region); must be a policy file (policy: walkthrough.yaml) or a non-empty list of them');
    expect(run.stderr).toContain("or an SSM path (policy: { path: /mcp-sso-gateway/McpSsoGateway/policies }, with an optional region)");
  });

  it("exits 2 when the path holds no policy", async () => {
    expectUsageError(await cli("explain", "--path", `${path}-empty`, "--token", bossToken, "--tool", "echo"), /no policy parameters found/);
  });
});

describe("policy test", () => {
  it("passes the worked example next to the walkthrough policy", async () => {
    const run = await cli("test", "policies/walkthrough.test.yaml");
    expect(run.stderr).toBe("");
    const lines = run.stdout.trimEnd().split("\n");
    const summary = lines.pop();
    expect(summary).toMatch(/^(\d+) passed, 0 failed$/);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(summary).toBe(`${lines.length} passed, 0 failed`);
    for (const line of lines) expect(line).toMatch(/^ok {3}cases\[\d+\]/);
    expect(run.stdout).toMatch(/ok {3}cases\[\d+\] "the boss sees echo": ALLOW tool echo \(listing\) for boss: allowed by walkthrough\.yaml rules\[0\]/);
    expect(run.code).toBe(0);
  });

  it("fails on a wrong expectation, showing expected and actual and the deciding rule", async () => {
    await writeFile(join(scratch, "walkthrough.yaml"), `rules:\n- 'mcp.tool.name == "echo" && "admin" in jwt.roles'\n`);
    const file = join(scratch, "wrong.test.yaml");
    await writeFile(file, `policy: walkthrough.yaml
identities: { jsmith: { sub: jsmith }, boss: { sub: boss, roles: [admin] } }
cases:
  - { as: jsmith, tool: echo, expect: allow }
  - { as: boss, tool: echo, expect: allow }
  - { as: boss, tool: echo, expect: allow, rule: "walkthrough.yaml rules[1]" }
`);
    const run = await cli("test", file);
    expect(run.stdout.split("\n")).toEqual([
      "FAIL cases[0]: expected allow, got DENY tool echo (listing) for jsmith: no rule allows it (default deny)",
      "ok   cases[1]: ALLOW tool echo (listing) for boss: allowed by walkthrough.yaml rules[0]",
      'FAIL cases[2]: expected allow by "walkthrough.yaml rules[1]", but decided by "walkthrough.yaml rules[0]": ALLOW tool echo (listing) for boss: allowed by walkthrough.yaml rules[0]',
      "1 passed, 2 failed",
      "",
    ]);
    expect(run.code).toBe(1);
  });

  it("exits 2 on an invalid test file, naming each place", async () => {
    const file = join(scratch, "invalid.test.yaml");
    await writeFile(file, "policy: walkthrough.yaml\ncases:\n  - { claims: { sub: x }, tool: echo, expected: allow }\n");
    const run = await cli("test", file);
    expectUsageError(run, /invalid test file/);
    expect(run.stderr).toMatch(/^ {2}cases\[0\]: unknown key "expected"/m);
    expect(run.stderr).toMatch(/^ {2}cases\[0\]\.expect: is required: "allow" or "deny"$/m);
  });

  it("refuses a missing file or no file with exit code 2", async () => {
    const [missing, none] = await Promise.all([cli("test", "policies/nope.test.yaml"), cli("test")]);
    expectUsageError(missing, /cannot read test file policies\/nope\.test\.yaml/);
    expectUsageError(none, /give a test FILE/);
  });
});
