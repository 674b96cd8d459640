/**
 * `mcp-sso-gateway token` refuses what it cannot do as asked, as a user runs it (the real CLI as a child process, in
 * a directory of its own): no `--sub` (the gateway refuses tokens without one), a `--claim` value that looks like
 * JSON but is not (`roles=[admin]`, which would silently become the text "[admin]"), a claim the command sets itself,
 * a claim given twice, a lifetime of 0, a `--key` file that does not exist or holds no private key. Each refusal is
 * exit code 2 (usage) or 1 (the key file), one message on stderr, no token on stdout, and no key file written. (Which
 * key is used without --key, the running demo's, is tested with the demo in demo-and-inspector.test.ts.)
 * What it accepts, it mints: plain words stay text, JSON values are JSON, and the gateway accepts the token.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSigningKey, publicJwk, serveJwks, JWKS_PATH, type SigningJwk } from "../../functions/demo/identity-provider.js";
import type { LocalServer } from "../../functions/adapters/node-server.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { runCli, type CliRun } from "../support/demo-process.js";
import { INITIALIZE, postRaw, startGateway, type TestGateway } from "../support/gateway.js";

const KEY_FILE = "key.json";
let dir: string;
let key: SigningJwk;

const token = (...args: string[]): Promise<CliRun> => runCli(["token", ...args, "--key", KEY_FILE], { cwd: dir });

function claimsOf(run: CliRun): Record<string, unknown> {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  const [, payload] = run.stdout.trim().split(".");
  return JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

function expectRefused(run: CliRun, code: number, message: string | RegExp): void {
  expect(run.stdout).toBe("");
  expect(run.code).toBe(code);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mcp-sso-cli-token-"));
  key = await generateSigningKey();
  await writeFile(join(dir, KEY_FILE), JSON.stringify(key));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("--sub", () => {
  it("is required: without it nothing is minted", async () => {
    expectRefused(await runCli(["token", "--claim", 'roles=["admin"]'], { cwd: dir }), 2, /^--sub is required: the gateway refuses tokens without a subject\n\nUsage: /);
    // Refused before any key is looked for, let alone created.
    expect(await exists(join(dir, ".demo"))).toBe(false);
  });

  it("must not be empty", async () => {
    expectRefused(await token("--sub", " "), 2, /^--sub must not be empty\n$/);
  });
});

describe("--claim values", () => {
  it("plain words stay text; JSON lists, objects, strings, numbers, true, false and null are JSON", async () => {
    const claims = claimsOf(
      await token(
        "--sub", "alice",
        "--claim", "team=blue",
        "--claim", "version=1.2.3",
        "--claim", 'roles=["admin","employee"]',
        "--claim", 'org={"unit":"sales"}',
        "--claim", 'label="[draft]"',
        "--claim", "level=3",
        "--claim", "staff=true",
        "--claim", "manager=null",
      ),
    );
    expect(claims).toMatchObject({
      sub: "alice",
      team: "blue",
      version: "1.2.3",
      roles: ["admin", "employee"],
      org: { unit: "sales" },
      label: "[draft]",
      level: 3,
      staff: true,
      manager: null,
    });
  });

  it.each([
    ["roles=[admin]", `write it as JSON: --claim 'roles=["admin"]', or for the text itself write a JSON string: --claim 'roles="[admin]"'`],
    ["roles=[admin, employee]", `write it as JSON: --claim 'roles=["admin", "employee"]'`],
    ["org={unit: sales}", `write it as JSON: --claim 'org={"unit": "sales"}'`],
    ['name="alice', `for the text itself write a JSON string: --claim 'name="\\"alice"'`],
    ["zip=01234", `write it as JSON: --claim 'zip=1234', or for the text itself write a JSON string: --claim 'zip="01234"'`],
  ])("refuses %s, which looks like JSON but is not, showing the JSON to write", async (claim, advice) => {
    const run = await token("--sub", "alice", "--claim", claim);
    expectRefused(run, 2, `--claim ${claim}: the value looks like JSON but is not (`);
    expect(run.stderr).toContain(advice);
  });
});

describe("claims the command sets, and claims given twice", () => {
  it.each([
    [["--claim", "exp=0"], "the claim exp cannot be given in --claim or --claims: it comes from --expires"],
    [["--claim", "iss=https://elsewhere"], "the claim iss cannot be given in --claim or --claims: it comes from --issuer"],
    [["--claims", '{"sub":"mallory"}'], "the claim sub cannot be given in --claim or --claims: it comes from --sub"],
    [["--claims", '{"aud":"other"}'], "the claim aud cannot be given in --claim or --claims: it comes from --audience"],
    [["--claim", "iat=0"], "the claim iat cannot be given in --claim or --claims: it comes from the time of minting and cannot be chosen"],
    [["--claim", "roles=a", "--claim", "roles=b"], "--claim roles is given twice; give each claim once"],
    [["--claims", '{"roles":["a"]}', "--claim", "roles=b"], "the claim roles is given both in --claims and by --claim; give it once"],
    [["--claims", "{roles: [a]}"], /^--claims is not valid JSON \(.*\); write an object such as/],
    [["--claims", '["admin"]'], /^--claims must be a JSON object/],
    [["--expires", "0"], '--expires must be more than 0, not "0"'],
    [["--expires", "0h"], '--expires must be more than 0, not "0h"'],
  ])("refuses %j", async (args, message) => {
    expectRefused(await token("--sub", "alice", ...args), 2, message);
  });

  it("takes the lifetime from --expires, in seconds or as a span", async () => {
    const seconds = claimsOf(await token("--sub", "alice", "--expires", "90"));
    expect((seconds.exp as number) - (seconds.iat as number)).toBe(90);
    const span = claimsOf(await token("--sub", "alice", "--expires", "2h"));
    expect((span.exp as number) - (span.iat as number)).toBe(7200);
  });
});

describe("the signing key", () => {
  it("named by --key must exist: a missing file is refused, not created", async () => {
    expectRefused(await runCli(["token", "--sub", "alice", "--key", "typo.json"], { cwd: dir }), 2, /^--key typo\.json: no such file/);
    expect(await exists(join(dir, "typo.json"))).toBe(false);
  });

  it("is refused, and left as it is, when the file holds no private key", async () => {
    const publicOnly = JSON.stringify(publicJwk(key));
    await writeFile(join(dir, "public.json"), publicOnly);
    await writeFile(join(dir, "garbage.json"), "not json");
    for (const file of ["public.json", "garbage.json"]) {
      expectRefused(await runCli(["token", "--sub", "alice", "--key", file], { cwd: dir }), 1, `${file} is not a private signing key`);
    }
    expect(await readFile(join(dir, "public.json"), "utf8")).toBe(publicOnly);
    expect(await readFile(join(dir, "garbage.json"), "utf8")).toBe("not json");
  });
});

describe("a minted token at the gateway", () => {
  let jwks: LocalServer;
  let backend: TestBackend;
  let gateway: TestGateway;
  let policyFile: string;

  beforeAll(async () => {
    jwks = await serveJwks(() => [publicJwk(key)]);
    backend = await startBackend();
    policyFile = join(dir, "policy.yaml");
    await writeFile(policyFile, "tools:\n  echo: ['*']\n");
    gateway = await startGateway({
      MCP_BACKEND_URL: backend.url,
      JWT_ISSUER: "acme@example.com",
      JWT_AUDIENCE: "mcp.example.com",
      JWKS_URI: `${jwks.url}${JWKS_PATH}`,
      POLICY_FILE: policyFile,
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await backend?.close();
    await jwks?.close();
  });

  it("is accepted, naming its subject", async () => {
    const run = await token("--sub", "alice", "--claim", 'roles=["admin"]');
    expect(run.code, run.stderr).toBe(0);
    const response = await postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${run.stdout.trim()}` });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    expect(gateway.logger.last()).toMatchObject({ status: 200, subject: "alice" });
  });
});
