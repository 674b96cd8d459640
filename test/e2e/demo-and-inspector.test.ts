/**
 * The walkthrough as a user runs it: the real `npm start` entry (`mcp-sso-gateway demo`) as a child process in its own
 * directory, driven with the walkthrough's pasted tokens by the MCP SDK client and by the MCP Inspector CLI; then the
 * `token` and `serve` commands. Signing in without a pasted token is demo-sign-in.test.ts.
 */
import { mkdir, mkdtemp, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateSigningKey } from "../../functions/demo/identity-provider.js";
import { connectClient } from "../support/gateway.js";
import { cleanEnv, logLinesWithReason, runCli, startDemo, type DemoProcess } from "../support/demo-process.js";
import { parseJsonOutput, runInspectorCli } from "../support/inspector.js";
import { freePort } from "../support/ports.js";

const INSPECTOR_TIMEOUT = 60_000;
const NO_TOKEN_REASON = "no bearer token found";

let demo: DemoProcess;
/** The port the demo identity provider listens on, as the demo printed it. */
let idpPort: string;
let jsmith: string;
let boss: string;

function jwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

/** How many access-log lines so far say no bearer token was found (they are warnings, so on stderr). */
function noTokenLines(): number {
  return logLinesWithReason(demo.stdout() + demo.stderr(), NO_TOKEN_REASON).length;
}

const bearerHeader = (token: string) => ["--header", `Authorization: Bearer ${token}`];

beforeAll(async () => {
  // The identity provider on a free port, as startDemo puts the gateway and the echo server (it passes this
  // process's environment on to the demo).
  vi.stubEnv("IDP_PORT", "0");
  demo = await startDemo();
  idpPort = /^\s+identity provider\s+http:\/\/localhost:(\d+)\s/m.exec(demo.stdout())?.[1] ?? "";
  jsmith = await demo.token("jsmith.token");
  boss = await demo.token("boss.token");
});

afterAll(async () => {
  await demo?.remove();
  vi.unstubAllEnvs();
});

/** The environment `token` runs with: the demo identity provider's port, as a user sets IDP_PORT for a demo on another port. */
const tokenEnv = (port = idpPort) => cleanEnv({ IDP_PORT: port });

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe("npm start (mcp-sso-gateway demo)", () => {
  it("prints its gateway URL and its identity provider on free ports and writes the walkthrough's tokens, signed by the key it keeps", async () => {
    expect(demo.url).toMatch(/^http:\/\/localhost:\d+\/mcp$/);
    expect(demo.url).not.toBe("http://localhost:9000/mcp");
    expect(idpPort).toMatch(/^\d+$/);
    expect(idpPort).not.toBe("9100");
    const key = JSON.parse(await readFile(join(demo.cwd, ".demo/signing-key.json"), "utf8")) as { kid: string };
    expect(jwtPart(jsmith, 0)).toMatchObject({ alg: "RS256", kid: key.kid });
    expect(jwtPart(jsmith, 1)).toMatchObject({ iss: "acme@example.com", aud: "mcp.example.com", sub: "jsmith" });
    expect(jwtPart(jsmith, 1)).not.toHaveProperty("roles");
    expect(jwtPart(boss, 0)).toMatchObject({ kid: key.kid });
    expect(jwtPart(boss, 1)).toMatchObject({ sub: "pointy-haired-boss", roles: ["admin"] });
  });
});

describe("the walkthrough with the MCP SDK client", () => {
  it("refuses a client without a token, and the demo logs exactly one JSON line saying why", async () => {
    const before = noTokenLines();
    await expect(connectClient(demo.url)).rejects.toThrow(/401|Unauthorized/);
    await demo.waitForOutput(() => noTokenLines() > before);
    // Give a second line (a retry, a duplicate write) the chance to show up before counting.
    await new Promise((r) => setTimeout(r, 300));
    const lines = logLinesWithReason(demo.stdout() + demo.stderr(), NO_TOKEN_REASON);
    expect(lines.length - before).toBe(1);
    expect(lines.at(-1)).toMatchObject({ message: `request refused: ${NO_TOKEN_REASON}`, status: 401, httpMethod: "POST", path: "/mcp", decision: "denied" });
  });

  it("lets jsmith connect, but echo is neither listed nor callable", async () => {
    const client = await connectClient(demo.url, jsmith);
    try {
      expect((await client.listTools()).tools).toEqual([]);
      await expect(client.callTool({ name: "echo", arguments: { message: "hi" } })).rejects.toThrow(/Unknown tool: echo/);
    } finally {
      await client.close();
    }
  });

  it("lists and runs echo for the boss", async () => {
    const client = await connectClient(demo.url, boss);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
      const result = await client.callTool({ name: "echo", arguments: { message: "hello" } });
      expect(result.content).toEqual([{ type: "text", text: "hello" }]);
    } finally {
      await client.close();
    }
  });
});

describe("the walkthrough with the MCP Inspector CLI", () => {
  it("connects with jsmith's token, and lists no tools", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const run = await runInspectorCli(demo.url, ["--method", "tools/list", ...bearerHeader(jsmith)]);
    expect(run.code, run.stderr).toBe(0);
    expect(parseJsonOutput(run)).toEqual({ tools: [] });
  });

  it("lists echo for the boss", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const run = await runInspectorCli(demo.url, ["--method", "tools/list", ...bearerHeader(boss)]);
    expect(run.code, run.stderr).toBe(0);
    const { tools } = parseJsonOutput(run) as { tools: { name: string }[] };
    expect(tools.map((t) => t.name)).toEqual(["echo"]);
  });

  it("calls echo for the boss", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const run = await runInspectorCli(demo.url, ["--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hello", ...bearerHeader(boss)]);
    expect(run.code, run.stderr).toBe(0);
    expect(parseJsonOutput(run)).toMatchObject({ content: [{ type: "text", text: "hello" }] });
  });

  it("refuses jsmith's call of echo itself, as echo is not on his list", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const run = await runInspectorCli(demo.url, ["--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hello", ...bearerHeader(jsmith)]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("Tool 'echo' not found on server.");
    expect(run.stdout).toBe("");
  });

  it("lists both servers' tools through the multi-server gateway, prefixed, each as the policy grants", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const names = async (url: string, token: string) => {
      const run = await runInspectorCli(url, ["--method", "tools/list", ...bearerHeader(token)]);
      expect(run.code, run.stderr).toBe(0);
      return (parseJsonOutput(run) as { tools: Array<{ name: string }> }).tools.map((t) => t.name).sort();
    };
    expect(await names(demo.multiUrl, jsmith)).toEqual(["notes_list_notes"]);
    expect(await names(demo.multiUrl, boss)).toEqual(["echo_echo", "notes_add_note", "notes_list_notes"]);
    expect(await names(`${demo.multiUrl}/notes`, boss)).toEqual(["add_note", "list_notes"]);
  });

  it("runs a notes tool for the boss through the multi-server gateway, and refuses it to jsmith", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const add = (token: string) => runInspectorCli(demo.multiUrl, ["--method", "tools/call", "--tool-name", "notes_add_note", "--tool-arg", "text=from the walkthrough", ...bearerHeader(token)]);
    const run = await add(boss);
    expect(run.code, run.stderr).toBe(0);
    expect(parseJsonOutput(run)).toMatchObject({ content: [{ type: "text", text: expect.stringMatching(/^added notes:\/\/\d+$/) }] });
    const refused = await add(jsmith);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toBe("");
  });

  it("without a token and without a terminal, fails: the gateway refused it, and it would sign in only interactively", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const before = noTokenLines();
    const run = await runInspectorCli(demo.url, ["--method", "tools/list"]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).not.toMatch(/"tools"/);
    expect(run.stderr).toContain("Interactive OAuth requires a TTY");
    // The failure is the gateway's 401, not, say, a connection error.
    await demo.waitForOutput(() => noTokenLines() > before);
  });
});

describe("mcp-sso-gateway token", () => {
  it("mints, in the demo's directory, a token with the demo's key that the running demo accepts, with the claims asked for", async () => {
    const run = await runCli(["token", "--sub", "alice", "--claim", 'roles=["admin"]'], { cwd: demo.cwd, env: tokenEnv() });
    expect(run.code, run.stderr).toBe(0);
    const alice = run.stdout.trim();
    expect(alice).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(jwtPart(alice, 1)).toMatchObject({ sub: "alice", roles: ["admin"], iss: "acme@example.com", aud: "mcp.example.com" });

    const client = await connectClient(demo.url, alice);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
    } finally {
      await client.close();
    }
    await demo.waitForOutput((output) => /"subject":"alice"[^\n]*"mcpMethod":"tools\/list"/.test(output));
  });

  it("in another directory, mints nothing and creates no key: it says where it looked, and to start the demo", async () => {
    // As the command sees it: its working directory with symbolic links resolved.
    const elsewhere = await realpath(await mkdtemp(join(tmpdir(), "mcp-sso-token-")));
    try {
      const run = await runCli(["token", "--sub", "mallory", "--claim", 'roles=["admin"]'], { cwd: elsewhere, env: tokenEnv() });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`No demo signing key at ${join(elsewhere, ".demo/signing-key.json")}.`);
      expect(run.stderr).toContain("'npm start'");
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(await exists(join(elsewhere, ".demo"))).toBe(false);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("refuses the demo's key when no demo identity provider answers on IDP_PORT, naming the address it asked", async () => {
    const nowhere = String(await freePort());
    const run = await runCli(["token", "--sub", "alice"], { cwd: demo.cwd, env: tokenEnv(nowhere) });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`The demo identity provider does not answer at http://localhost:${nowhere} (connection refused: nothing listens there)`);
    expect(run.stderr).toContain("'npm start'");
  });

  it("refuses a key file the running demo does not publish, which would sign tokens the demo refuses", async () => {
    const other = await realpath(await mkdtemp(join(tmpdir(), "mcp-sso-token-other-")));
    try {
      await mkdir(join(other, ".demo"));
      const stranger = await generateSigningKey();
      await writeFile(join(other, ".demo/signing-key.json"), JSON.stringify(stranger));
      const run = await runCli(["token", "--sub", "mallory"], { cwd: other, env: tokenEnv() });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe("");
      expect(run.stderr).toContain(`The demo identity provider at http://localhost:${idpPort} does not publish the key in ${join(other, ".demo/signing-key.json")} (kid ${stranger.kid};`);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });
});

describe("mcp-sso-gateway serve", () => {
  it("exits with code 2 and names the missing MCP_BACKEND_URL, without a stack trace", async () => {
    const env = cleanEnv({
      JWT_ISSUER: "https://idp.example.com",
      JWT_AUDIENCE: "mcp.example.com",
      POLICY_FILE: "policies/walkthrough.yaml",
      PORT: "0",
    });
    const run = await runCli(["serve"], { cwd: demo.cwd, env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^Invalid gateway configuration:\n\s+- MCP_BACKEND_URL or MCP_BACKENDS is required \(the backend MCP server, or the list of them\)\s*$/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe("");
  });
});

describe("stopping the demo", () => {
  it("exits cleanly on SIGTERM", async () => {
    expect(await demo.stop()).toBe(0);
    await expect(fetch(demo.url, { method: "POST" })).rejects.toThrow();
  });
});
