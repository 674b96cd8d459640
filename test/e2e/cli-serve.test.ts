/**
 * `mcp-sso-gateway serve` as a user runs it (the real CLI as a child process): a gateway started by hand that could
 * only answer errors (no policy, an invalid one, signing keys that cannot be fetched, a session key that cannot be
 * read) does not start: exit code 1 and one message naming each file, URL or parameter and what is wrong with it. A
 * port already taken is said in one line, not a stack trace, and a misspelt setting is warned of. With everything in
 * place it starts and serves.
 *
 * What the demo and the Lambda function start through (startGatewayServer) is unchanged: it starts anyway and
 * answers 503 until the policy can be had.
 */
import { randomUUID } from "node:crypto";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveFetch, type LocalServer } from "../../functions/adapters/node-server.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { BIN, cleanEnv, runCli, type CliRun } from "../support/demo-process.js";
import { INITIALIZE, gatewaySettings, postRaw, startGateway } from "../support/gateway.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { freePort } from "../support/ports.js";

const POLICY = "tools:\n  echo: ['*']\n";
const NOT_STARTED = "mcp-sso-gateway serve: not started, as it could answer every request only with an error:\n";

let dir: string;
let idp: TestIdentityProvider;
let backend: TestBackend;
/** A server on loopback that answers 200 with a JSON document that is no JWKS at /wrong, and an empty JWKS at /empty. */
let notJwks: LocalServer;

/** The settings of a gateway that can serve: the test IdP's keys, the backend, a valid policy file. */
function goodSettings(extra: Record<string, string> = {}): Record<string, string> {
  return gatewaySettings(idp, backend.url, { POLICY_FILE: "policy.yaml", PORT: "0", ...extra });
}

const serve = (settings: Record<string, string>): Promise<CliRun> => runCli(["serve"], { cwd: dir, env: cleanEnv(settings) });

/** Refused to start: exit code 1, one message on stderr listing exactly these problems, nothing on stdout. */
function expectNotStarted(run: CliRun, problems: Array<string | RegExp>): void {
  expect(run.stdout).toBe("");
  expect(run.code).toBe(1);
  expect(run.stderr.startsWith(NOT_STARTED), run.stderr).toBe(true);
  const listed = run.stderr.slice(NOT_STARTED.length).trimEnd().split("\n");
  expect(listed).toHaveLength(problems.length);
  problems.forEach((problem, i) => expect(listed[i]).toMatch(typeof problem === "string" ? `  - ${problem}` : problem));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "mcp-sso-cli-serve-"));
  await writeFile(join(dir, "policy.yaml"), POLICY);
  await writeFile(join(dir, "invalid.yaml"), "tools:\n  echo: []\n");
  idp = await startIdentityProvider();
  backend = await startBackend();
  notJwks = await serveFetch(async (request) => Response.json({ keys: new URL(request.url).pathname === "/empty" ? [] : "none" }), { port: 0 });
});
afterAll(async () => {
  await notJwks?.close();
  await backend?.close();
  await idp?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("serve does not start a gateway that could only answer errors", () => {
  it("when the policy file is missing", async () => {
    expectNotStarted(await serve(goodSettings({ POLICY_FILE: "missing.yaml" })), [
      /^ {2}- POLICY_FILE missing\.yaml: the policy cannot be read: ENOENT: no such file or directory/,
    ]);
  });

  it("when the policy is invalid, naming the document and the place", async () => {
    expectNotStarted(await serve(goodSettings({ POLICY_FILE: "invalid.yaml" })), [/^ {2}- POLICY_FILE invalid\.yaml: the policy is not valid: invalid\.yaml: tools\.echo: /]);
  });

  it("when the SSM path holds no policy", async () => {
    const path = `/mcp-sso-gateway-test/serve-${randomUUID()}`;
    expectNotStarted(await serve(goodSettings({ POLICY_FILE: "", POLICY_SSM_PATH: path })), [
      `POLICY_SSM_PATH ${path}: the policy cannot be read: no policy parameters found under ${path}`,
    ]);
  });

  it("when the JWKS cannot be reached, is no JWKS, or holds no key", async () => {
    const port = await freePort();
    const closed = `http://127.0.0.1:${port}/jwks`;
    // The reason, not only node's "fetch failed": the connection was refused, at this host and port.
    expectNotStarted(await serve(goodSettings({ JWKS_URI: closed })), [
      `the signing keys of issuer ${ISSUER} cannot be fetched from ${closed}: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    ]);
    const wrong = `${notJwks.url}/wrong`;
    expectNotStarted(await serve(goodSettings({ JWKS_URI: wrong })), [`the signing keys of issuer ${ISSUER} cannot be fetched from ${wrong}: JWKS keys should be an array`]);
    const empty = `${notJwks.url}/empty`;
    expectNotStarted(await serve(goodSettings({ JWKS_URI: empty })), [`the signing keys of issuer ${ISSUER} fetched from ${empty} are none (an empty JWKS)`]);
  });

  it("when OIDC discovery finds nothing at the issuer", async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const settings = { ...goodSettings({ JWT_ISSUER: issuer }), JWKS_URI: "" };
    expectNotStarted(await serve(settings), [
      `the signing keys of issuer ${issuer} cannot be fetched by OIDC discovery at ${issuer}/.well-known/openid-configuration: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    ]);
  });

  it("when the session key cannot be read", async () => {
    const parameter = `/mcp-sso-gateway-test/serve-${randomUUID()}/session-key`;
    expectNotStarted(await serve(goodSettings({ SESSION_KEY_SSM_PARAMETER: parameter })), [
      new RegExp(`^ {2}- SESSION_KEY_SSM_PARAMETER: SSM parameter ${parameter} cannot be read: ParameterNotFound`),
    ]);
  });

  it("listing every problem at once", async () => {
    const closed = `http://127.0.0.1:${await freePort()}/jwks`;
    expectNotStarted(await serve(goodSettings({ POLICY_FILE: "missing.yaml", JWKS_URI: closed })), [
      /^ {2}- POLICY_FILE missing\.yaml: /,
      `the signing keys of issuer ${ISSUER} cannot be fetched from ${closed}: `,
    ]);
  });
});

describe("serve with a setting misspelt", () => {
  it("warns of each name the gateway does not read, with the one probably meant, before anything else", async () => {
    const run = await serve({ ...goodSettings({ POLICY_CACHE_SECOND: "0", POLICY_FILE: "missing.yaml" }) });
    expect(run.code).toBe(1);
    expect(run.stderr.split("\n")[0]).toBe("warning: POLICY_CACHE_SECOND is not a setting of the gateway and is ignored; did you mean POLICY_CACHE_SECONDS?");
    expect(run.stderr.split("\n")[1]).toBe(NOT_STARTED.trimEnd());
  });

  it("says so also when the misspelling makes a required setting missing", async () => {
    const { JWT_AUDIENCE: audience, ...settings } = goodSettings();
    const run = await serve({ ...settings, JWT_AUDIANCE: audience ?? "" });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "warning: JWT_AUDIANCE is not a setting of the gateway and is ignored; did you mean JWT_AUDIENCE?\n" +
        "Invalid gateway configuration:\n  - JWT_AUDIENCE is required (one or more audiences, comma-separated)\n",
    );
  });
});

describe("serve on a port that is taken", () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    port = await new Promise<number>((resolve) => taken.listen(0, "127.0.0.1", () => resolve((taken.address() as { port: number }).port)));
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it("says so in one line, with what to change, and no stack trace", async () => {
    const run = await serve(goodSettings({ PORT: String(port) }));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE: .*; another process is listening there; set PORT to a free port \\(0 picks one\\)\\n$`, "m"));
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stderr).not.toMatch(/Node\.js v\d/);
  });
});

/** `serve` running until stopped; resolves once it says where it listens. */
async function startServe(settings: Record<string, string>): Promise<{ url: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, "serve"], { cwd: dir, env: cleanEnv(settings), stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (url === undefined) {
    url = /"message":"gateway listening".*?"url":"([^"]+)"/.exec(output)?.[1];
    if (url !== undefined) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`serve did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("serve with everything in place", () => {
  it.each([
    ["a policy file", async () => ({})],
    [
      "a policy in SSM and a session key there",
      async () => {
        const path = `/mcp-sso-gateway-test/serve-${randomUUID()}`;
        const ssm = new SSMClient({});
        await ssm.send(new PutParameterCommand({ Name: `${path}/policies/main`, Value: POLICY, Type: "String" }));
        await ssm.send(new PutParameterCommand({ Name: `${path}/session-key`, Value: "k".repeat(40), Type: "SecureString" }));
        return { POLICY_FILE: "", POLICY_SSM_PATH: `${path}/policies`, SESSION_KEY_SSM_PARAMETER: `${path}/session-key` };
      },
    ],
  ])("starts and serves, with %s", async (_, extra) => {
    const server = await startServe(goodSettings(await extra()));
    try {
      const response = await postRaw(server.url, INITIALIZE, { authorization: `Bearer ${await idp.token()}` });
      expect(response.status).toBe(200);
      await response.body?.cancel();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe("the gateway the demo and the in-process tests start (as the Lambda function does)", () => {
  it("starts without its policy and answers 503 meanwhile", async () => {
    const gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: join(dir, "missing.yaml") }));
    try {
      const response = await postRaw(gateway.url, INITIALIZE, { authorization: `Bearer ${await idp.token({ audience: AUDIENCE })}` });
      expect(response.status).toBe(503);
    } finally {
      await gateway.close();
    }
  });
});
