/**
 * The walkthrough as a user runs it: the real `npm start` entry (`mcp-sso-gateway demo`) as a child process in its own
 * directory, driven with the walkthrough's pasted tokens by the MCP SDK client and by the MCP Inspector CLI; then the
 * `token` and `serve` commands. Signing in without a pasted token is demo-sign-in.test.ts.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectClient, postRaw, INITIALIZE } from "../support/gateway.js";
import { cleanEnv, logLinesWithReason, runCli, startDemo, type DemoProcess } from "../support/demo-process.js";
import { parseJsonOutput, runInspectorCli } from "../support/inspector.js";

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
  it("mints a token with the demo's key that the running demo accepts, with the claims asked for", async () => {
    const run = await runCli(["token", "--sub", "alice", "--claim", 'roles=["admin"]', "--key", join(demo.cwd, ".demo/signing-key.json")], { cwd: demo.cwd });
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

  it("mints, in another directory, a token with a fresh key that the demo refuses", async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), "mcp-sso-token-"));
    const run = await runCli(["token", "--sub", "mallory", "--claim", 'roles=["admin"]'], { cwd: elsewhere }).finally(() => rm(elsewhere, { recursive: true, force: true }));
    expect(run.code, run.stderr).toBe(0);
    const response = await postRaw(demo.url, INITIALIZE, { authorization: `Bearer ${run.stdout.trim()}` });
    expect(response.status).toBe(401);
    await demo.waitForOutput((output) => /"reason":"unknown signing key: /.test(output));
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
    expect(run.stderr).toMatch(/^Invalid gateway configuration:\n\s+- MCP_BACKEND_URL is required\s*$/);
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
