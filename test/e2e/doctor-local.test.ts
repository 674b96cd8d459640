/**
 * `mcp-sso-gateway doctor` run as a user runs it (a child process of bin/mcp-sso-gateway.js) against the local server
 * (`serve`'s gateway, a real identity provider with OpenID discovery and keys, a backend whose tools come in pages):
 * a correct deployment passes, and so does one behind that renaming proxy with the stack's edge function restoring the
 * challenge (run in a CloudFront stand-in); a wrong token, a proxy that renames the challenge as API Gateway does, a PUBLIC_URL
 * naming a stage that is not there, and a URL where nothing answers each fail, naming the cause; a browser origin the
 * gateway does not allow is a warning.
 */
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayServer } from "../../functions/cli/serve.js";
import { generateSigningKey } from "../../functions/demo/identity-provider.js";
import { handler as restoreChallenge } from "../../functions/edge/restore-challenge.js";
import { startRenamingProxy, type RenamingProxy } from "../support/challenge-renaming-proxy.js";
import { startEdgeFunctionProxy, type EdgeFunctionProxy } from "../support/edge-function-proxy.js";
import { runCli, cleanEnv } from "../support/demo-process.js";
import { lineOf, linesOf, runDoctor, startDoctorStage, type DoctorStage } from "../support/doctor-deployment.js";
import { CollectingLogger, INITIALIZE, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { freePort } from "../support/ports.js";

let stage: DoctorStage;
let gateway: TestGateway;
let proxy: RenamingProxy;
let edge: EdgeFunctionProxy;

beforeAll(async () => {
  stage = await startDoctorStage();
  gateway = await startGateway(stage.settings());
  proxy = await startRenamingProxy(gateway.origin);
  edge = await startEdgeFunctionProxy(proxy.origin, restoreChallenge);
});

afterAll(async () => {
  await edge?.close();
  await proxy?.close();
  await gateway?.close();
  await stage?.close();
});

const failures = (stdout: string) => stdout.split("\n").filter((line) => line.startsWith("fail "));

describe("doctor against a correct deployment", () => {
  it("passes: the challenge, the metadata at every URL clients try, the identity provider, CORS, and the caller's MCP", async () => {
    stage.backend.listRequests.length = 0;
    const run = await runDoctor(gateway.url, "--token-file", stage.tokenFile);
    const { origin, url } = gateway;
    const issuer = stage.idp.issuer;
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toBe(`mcp-sso-gateway doctor ${url}`);
    expect(lineOf(run, "challenge")).toBe(`ok   challenge: 401 with WWW-Authenticate: Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"`);
    // The challenge's URL is the path-aware well-known URI here: one document, checked once, then the host root's.
    expect(linesOf(run, "metadata at ")).toEqual([
      `ok   metadata at ${origin}/.well-known/oauth-protected-resource/mcp: the challenge's resource_metadata URL and the well-known URI with the endpoint's path: resource ${url}, authorization servers ${issuer}`,
      `ok   metadata at ${origin}/.well-known/oauth-protected-resource: the well-known URI at the host root: resource ${url}, authorization servers ${issuer}`,
    ]);
    expect(linesOf(run, "authorization server ")).toEqual([
      `ok   authorization server ${issuer}: OpenID discovery at ${stage.idp.discoveryUrl}: authorization endpoint ${issuer}/protocol/openid-connect/auth, token endpoint ${stage.idp.tokenEndpoint}, no registration endpoint: clients need a client id registered for them`,
      expect.stringMatching(/^warn authorization server .*: no RFC 8414 metadata \(.*\/\.well-known\/oauth-authorization-server\/realms\/acme \(404 Not found\)\): clients that follow MCP 2025-06-18 to the letter/),
    ]);
    expect(lineOf(run, "CORS for http://localhost:6274")).toBe(
      "ok   CORS for http://localhost:6274: the preflight allows Authorization, Content-Type, Mcp-Protocol-Version, Mcp-Session-Id; answers expose Mcp-Session-Id, WWW-Authenticate; the metadata document is readable",
    );
    expect(lineOf(run, "initialize")).toBe('ok   initialize: protocol version 2025-11-25, server "paged-tools" 2.3.0, with a session');
    // Seven reports on three pages; admin_reset (page three) is not this reader's.
    expect(lineOf(run, "tools/list")).toBe("ok   tools/list: this caller sees 7 tools over 3 pages");
    expect(stage.backend.listRequests).toHaveLength(3);
    expect(lineOf(run, "streaming")).toBe("ok   streaming: GET opened a text/event-stream: progress, logging and server requests arrive as they happen");
    expect(lineOf(run, "latency")).toMatch(/^ok {3}latency: first request \d+ ms \(a cold start, if the function was idle\); warm: median \d+ ms over 5 pings$/);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("9 ok, 1 warning, 0 failures: MCP clients can sign in and work through this endpoint");
  });

  it("without a token, checks sign-in discovery and says what it could not check", async () => {
    const run = await runDoctor(gateway.url);
    expect(run.code).toBe(0);
    expect(lineOf(run, "initialize")).toBeUndefined();
    expect(lineOf(run, "signed in")).toBe("warn signed in: not checked: give --token or --token-file to check initialize, tools/list, streaming and latency.");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe(
      "5 ok, 2 warnings, 0 failures: MCP clients can find where to sign in; give --token to check that a signed-in client can work",
    );
  });

  it("warns, with the setting to change, when the browser origin is not allowed (desktop clients still work)", async () => {
    const run = await runDoctor(gateway.url, "--token", stage.token, "--origin", "https://app.example.com");
    expect(run.code).toBe(0);
    expect(lineOf(run, "CORS for https://app.example.com")).toBe(
      "warn CORS for https://app.example.com: the preflight was answered 403 Forbidden: this Origin is not allowed, without Access-Control-Allow-Origin: " +
        "browser-based clients at https://app.example.com cannot connect (desktop and IDE clients are not affected). " +
        "Fix: add https://app.example.com to CORS_ALLOWED_ORIGINS (in CDK: -c corsAllowedOrigins=https://app.example.com).",
    );
  });
});

describe("doctor with a token that is wrong", () => {
  it("fails initialize with the gateway's reason and what to do, and checks nothing that needs it", async () => {
    const strangerKey = await generateSigningKey();
    const forged = await stage.idp.token({ roles: ["reader"] }, { key: strangerKey });
    const run = await runDoctor(gateway.url, "--token", forged);
    expect(run.code).toBe(1);
    expect(failures(run.stdout)).toEqual([
      "fail initialize: the gateway answered 401 Unauthorized: the bearer token is not valid (invalid_token). Not checked without it: tools/list, streaming, latency. " +
        "Fix: give a current access token the identity provider issued for this gateway (its issuer and audience: JWT_ISSUER, JWT_AUDIENCE); " +
        "the gateway's access-log line for this request names the exact reason.",
    ]);
    for (const check of ["tools/list", "streaming", "latency"]) expect(lineOf(run, check)).toBeUndefined();
    // What the gateway logged: the exact reason, which a client is not told.
    expect(gateway.logger.requests().findLast((line) => line.status === 401 && line.reason !== "no bearer token found")?.reason).toMatch(/kid|key|signature/i);
  });

  it("fails the same way for a token issued for another API (its audience)", async () => {
    const other = await stage.idp.token({ roles: ["reader"] }, { audience: "another-api" });
    const run = await runDoctor(gateway.url, "--token", other);
    expect(run.code).toBe(1);
    expect(lineOf(run, "initialize")).toMatch(/^fail initialize: the gateway answered 401 Unauthorized: the bearer token is not valid \(invalid_token\)\./);
  });
});

describe("doctor behind that renaming proxy with CloudFront's challenge restorer in front (the stack's custom domain)", () => {
  it("passes: the edge function gives the challenge its name back, and the rest of the deployment works through both", async () => {
    const url = `${edge.origin}/mcp`;
    const run = await runDoctor(url, "--token", stage.token);
    expect(failures(run.stdout)).toEqual([]);
    expect(run.code).toBe(0);
    expect(lineOf(run, "challenge")).toBe(`ok   challenge: 401 with WWW-Authenticate: Bearer resource_metadata="${edge.origin}/.well-known/oauth-protected-resource/mcp"`);
    expect(lineOf(run, "tools/list")).toBe("ok   tools/list: this caller sees 7 tools over 3 pages");
    // And the MCP SDK reads the challenge again.
    const challenged = await postRaw(url, INITIALIZE);
    expect(extractWWWAuthenticateParams(challenged).resourceMetadataUrl?.href).toBe(`${edge.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(challenged.headers.get("x-amzn-remapped-www-authenticate")).toBeNull();
  });
});

describe("doctor behind a proxy that renames WWW-Authenticate, as API Gateway does", () => {
  it("fails, naming the renamed header, who cannot sign in, and the front door that passes it", async () => {
    const url = `${proxy.origin}/mcp`;
    const run = await runDoctor(url, "--token", stage.token);
    expect(run.code).toBe(1);
    expect(failures(run.stdout)).toEqual([
      `fail challenge: 401, but the challenge came renamed, as x-amzn-Remapped-WWW-Authenticate: Bearer resource_metadata="${proxy.origin}/.well-known/oauth-protected-resource/mcp" ` +
        "(API Gateway renames a Lambda proxy's WWW-Authenticate). Clients that read the challenge never start sign-in (Claude: anthropics/claude-ai-mcp issue 748); " +
        'MCP SDK clients fall back to the well-known URIs below. Fix: give the stack a custom domain (-c domainName=... -c certificateArn=...): its CloudFront distribution restores the header (README, "Deploy on AWS").',
    ]);
    // The document the renamed challenge names is still checked, and the rest of the deployment works.
    expect(linesOf(run, "metadata at ")[0]).toMatch(new RegExp(`^ok   metadata at ${proxy.origin}/\\.well-known/oauth-protected-resource/mcp: the challenge's resource_metadata URL and`));
    expect(lineOf(run, "tools/list")).toBe("ok   tools/list: this caller sees 7 tools over 3 pages");
    expect(run.stdout.trimEnd().split("\n").at(-1)).toMatch(/, 1 failure: MCP clients cannot sign in or work through this endpoint/);
  });

  it("(what the failure says of the MCP SDK) the SDK reads no challenge from the renamed header, and finds the metadata at the well-known URI", async () => {
    const url = `${proxy.origin}/mcp`;
    const challenged = await postRaw(url, INITIALIZE);
    expect(challenged.status).toBe(401);
    expect(challenged.headers.get("www-authenticate")).toBeNull();
    expect(challenged.headers.get("x-amzn-remapped-www-authenticate")).toMatch(/^Bearer resource_metadata=/);
    expect(extractWWWAuthenticateParams(challenged)).toEqual({});
    expect(await discoverOAuthProtectedResourceMetadata(url)).toMatchObject({ resource: url, authorization_servers: [stage.idp.issuer] });
  });
});

describe("doctor against a misconfigured or absent gateway", () => {
  it("fails when PUBLIC_URL names a path the gateway is not at: the challenge's URL does not answer, the documents name another resource", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const { server } = await startGatewayServer(new CollectingLogger(), { port }, stage.settings({ PUBLIC_URL: `${base}/prod` }));
    try {
      const run = await runDoctor(`${base}/mcp`);
      expect(run.code).toBe(1);
      expect(failures(run.stdout)).toEqual([
        `fail metadata at ${base}/prod/.well-known/oauth-protected-resource/mcp: the challenge's resource_metadata URL: 404 Not found: clients that follow the challenge cannot sign in. ` +
          "Fix: the gateway serves its metadata at PUBLIC_URL/.well-known/oauth-protected-resource/<MCP path>; set PUBLIC_URL to the base URL clients use.",
        ...["/mcp", ""].map(
          (path) =>
            `fail metadata at ${base}/.well-known/oauth-protected-resource${path}: the well-known URI ${path ? "with the endpoint's path" : "at the host root"}: ` +
            `its resource is ${base}/prod/mcp, not the endpoint's URL ${base}/mcp: clients must not use it (RFC 9728 §3.3). ` +
            "Fix: set PUBLIC_URL to the base URL clients use (the stack sets it to its front door's URL), or give doctor the URL clients are given.",
        ),
      ]);
    } finally {
      await server.close();
    }
  });

  it("fails for an authorization server that publishes no metadata where clients look, and checks each one listed", async () => {
    const elsewhere = `${stage.idp.origin}/realms/other`;
    const listing = await startGateway(stage.settings({ AUTHORIZATION_SERVERS: `${stage.idp.issuer},${elsewhere}` }));
    try {
      const run = await runDoctor(listing.url);
      expect(run.code).toBe(1);
      expect(linesOf(run, "authorization server ").map((line) => line.slice(0, 5))).toEqual(["ok   ", "warn ", "fail "]);
      const tried = [
        `${stage.idp.origin}/.well-known/oauth-authorization-server/realms/other`,
        `${stage.idp.origin}/.well-known/openid-configuration/realms/other`,
        `${elsewhere}/.well-known/openid-configuration`,
      ];
      expect(failures(run.stdout)).toEqual([
        `fail authorization server ${elsewhere}: no metadata at ${tried.map((url) => `${url} (404 Not found)`).join(", ")}: clients cannot find its authorization and token endpoints. ` +
          "Fix: set AUTHORIZATION_SERVERS to the identity provider's issuer URL; it must publish RFC 8414 or OpenID discovery metadata.",
      ]);
    } finally {
      await listing.close();
    }
  });

  it("fails at once when nothing answers at the URL", async () => {
    const url = `http://127.0.0.1:${await freePort()}/mcp`;
    const run = await runDoctor(url, "--token", stage.token);
    expect(run.code).toBe(1);
    expect(run.stdout.trimEnd().split("\n")).toEqual([
      `mcp-sso-gateway doctor ${url}`,
      expect.stringMatching(new RegExp(`^fail challenge: cannot reach ${url}: fetch failed \\(ECONNREFUSED\\)\\. Fix: check the URL`)),
      "0 ok, 0 warnings, 1 failure: MCP clients cannot sign in or work through this endpoint (see the failures above)",
    ]);
  });
});

describe("doctor's command line", () => {
  it("prints its usage with --help, and is listed among the commands", async () => {
    const help = await runDoctor("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: mcp-sso-gateway doctor URL \[--token TOKEN \| --token-file FILE\] \[options\]/);
    for (const option of ["--token TOKEN", "--token-file FILE", "--origin ORIGIN", "--timeout SECONDS"]) expect(help.stdout).toContain(`  ${option}`);
    const commands = await runCli(["--help"], { cwd: process.cwd(), env: cleanEnv() });
    expect(commands.stdout).toMatch(/^ {2}doctor {2}check a deployment as MCP clients meet it/m);
  });

  it("refuses, with exit code 2, a missing URL, two tokens, and a token to be sent over plain http to another machine", async () => {
    const missing = await runDoctor();
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringMatching(/^doctor needs the MCP endpoint's URL/) });
    const both = await runDoctor(gateway.url, "--token", stage.token, "--token-file", stage.tokenFile);
    expect(both).toMatchObject({ code: 2, stderr: "give --token or --token-file, not both\n" });
    // 0.0.0.0 is not a loopback name, yet reaches this machine only: were the token sent, it would not leave it.
    const elsewhere = `0.0.0.0:${await freePort()}`;
    const plain = await runDoctor(`http://${elsewhere}/mcp`, "--token", stage.token);
    expect(plain).toMatchObject({ code: 2, stdout: "", stderr: `refusing to send the token over plain http to ${elsewhere}: use the https URL\n` });
  });
});
