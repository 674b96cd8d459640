/**
 * MCP sign-in in the demo, end to end, with nothing pasted: the real `npm start` entry (`mcp-sso-gateway demo`) as a
 * child process in its own directory, on free ports. An MCP client without a token follows the gateway's 401
 * challenge and RFC 9728 document to the demo's OpenID Provider, registers itself (RFC 7591), and signs in with the
 * authorization code flow, PKCE and the gateway's MCP URL as its resource (RFC 8707); the sign-in page is answered
 * over HTTP by a browser stand-in. What the client may then list and call shows the user's roles applied. The
 * clients are the MCP SDK's own OAuth client and the MCP Inspector's CLI.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  UnauthorizedError,
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
  registerClient,
  startAuthorization,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEMO_USERS } from "../../functions/demo/demo-users.js";
import { generateSigningKey } from "../../functions/demo/identity-provider.js";
import { startOpenIdProvider, type OpenIdProviderOptions } from "../../functions/demo/openid-provider.js";
import { startDemo, type DemoProcess } from "../support/demo-process.js";
import { INITIALIZE, postRaw } from "../support/gateway.js";
import { startInspectorSignIn } from "../support/inspector-sign-in.js";
import { CALLBACK_URL, InMemoryOAuthClient, oauthClient, signIn } from "../support/oauth-client.js";
import { freePort } from "../support/ports.js";
import { SignInBrowser, type SignInVisit } from "../support/sign-in-browser.js";

const INSPECTOR_TIMEOUT = 90_000;
const JSMITH = "jsmith";
const BOSS = "pointy-haired-boss";

let demo: DemoProcess;
/** The demo OpenID Provider's issuer, as the demo printed it. */
let issuer: string;
let demoKid: string;

function jwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

/** Signs in to the demo's gateway as `user` with a new SDK OAuth client, in `browser`; returns what was seen. */
async function signInAs(user: string, browser = new SignInBrowser()): Promise<{ client: Client; oauth: InMemoryOAuthClient; visit: SignInVisit }> {
  const oauth = new InMemoryOAuthClient(`demo sign-in test (${user})`);
  let visit: SignInVisit | undefined;
  const client = await signIn(demo.url, oauth, async (authorizationUrl) => {
    visit = await browser.visit(authorizationUrl, { user }, CALLBACK_URL);
    return visit.callback;
  });
  if (!visit) throw new Error("the client connected without visiting the sign-in page");
  return { client, oauth, visit };
}

function accessToken(oauth: InMemoryOAuthClient): string {
  const token = oauth.tokens()?.access_token;
  if (!token) throw new Error("the client holds no access token");
  return token;
}

beforeAll(async () => {
  // The identity provider on a free port, as startDemo puts the gateway and the echo server (it passes this
  // process's environment on to the demo).
  vi.stubEnv("IDP_PORT", "0");
  demo = await startDemo();
  const printed = /^\s+identity provider\s+(http:\/\/localhost:\d+)\s/m.exec(demo.stdout())?.[1];
  if (!printed) throw new Error(`the demo printed no identity provider URL:\n${demo.stdout()}`);
  issuer = printed;
  demoKid = (JSON.parse(await readFile(join(demo.cwd, ".demo/signing-key.json"), "utf8")) as { kid: string }).kid;
});

afterAll(async () => {
  await demo?.remove();
  vi.unstubAllEnvs();
});

describe("from the gateway's challenge to the demo's OpenID Provider", () => {
  it("the 401 names the RFC 9728 document, which names the provider and the scope to ask for; the provider offers registration and PKCE", async () => {
    const refused = await postRaw(demo.url, INITIALIZE);
    expect(refused.status).toBe(401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(refused);
    expect(resourceMetadataUrl).toBeDefined();
    const resource = await discoverOAuthProtectedResourceMetadata(demo.url, { resourceMetadataUrl });
    expect(resource).toMatchObject({ resource: demo.url, authorization_servers: [issuer], scopes_supported: ["mcp"] });

    const metadata = await discoverAuthorizationServerMetadata(issuer);
    expect(metadata).toMatchObject({ issuer, jwks_uri: `${issuer}/jwks`, registration_endpoint: `${issuer}/reg` });
    expect(metadata?.code_challenge_methods_supported).toContain("S256");
    expect(metadata?.scopes_supported).toContain("mcp");
  });
});

describe("signing in with the MCP SDK's OAuth client", () => {
  it("jsmith picks himself on the sign-in page; his token is a JWT for the gateway's URL without roles, and echo is neither listed nor callable", async () => {
    const { client, oauth, visit } = await signInAs(JSMITH);
    try {
      expect(visit.pages).toHaveLength(1);
      expect(visit.pages[0]).toContain(`value="${JSMITH}"`);
      expect(visit.pages[0]).toContain(`value="${BOSS}"`);
      expect(visit.pages[0]).toContain("demo sign-in test (jsmith)");

      const token = accessToken(oauth);
      expect(jwtPart(token, 0)).toMatchObject({ typ: "at+jwt", alg: "RS256", kid: demoKid });
      expect(jwtPart(token, 1)).toMatchObject({ iss: issuer, aud: demo.url, sub: JSMITH, scope: "mcp" });
      expect(jwtPart(token, 1)).not.toHaveProperty("roles");

      expect((await client.listTools()).tools).toEqual([]);
      await expect(client.callTool({ name: "echo", arguments: { message: "hi" } })).rejects.toThrow(/Unknown tool: echo/);
      await demo.waitForOutput((output) => /"subject":"jsmith"[^\n]*"tool":"echo"[^\n]*"decision":"denied"/.test(output));
    } finally {
      await client.close();
    }
  });

  it("the boss's token carries roles [admin]: echo is listed, and the echo server runs it", async () => {
    const { client, oauth } = await signInAs(BOSS);
    try {
      expect(jwtPart(accessToken(oauth), 1)).toMatchObject({ iss: issuer, aud: demo.url, sub: BOSS, roles: ["admin"] });
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
      // A message no one but the echo server could send back.
      const message = `hello ${randomUUID()}`;
      const result = await client.callTool({ name: "echo", arguments: { message } });
      expect(result.content).toEqual([{ type: "text", text: message }]);
      await demo.waitForOutput((output) => /"subject":"pointy-haired-boss"[^\n]*"tool":"echo"[^\n]*"decision":"allowed"/.test(output));
    } finally {
      await client.close();
    }
  });

  it("a browser that signed in as jsmith is asked again at the next sign-in, so it can be the boss", async () => {
    const browser = new SignInBrowser();
    const first = await signInAs(JSMITH, browser);
    await first.client.close();
    const second = await signInAs(BOSS, browser);
    try {
      expect(second.visit.pages).toHaveLength(1);
      expect(jwtPart(accessToken(second.oauth), 1)).toMatchObject({ sub: BOSS, roles: ["admin"] });
      expect((await second.client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
    } finally {
      await second.client.close();
    }
  });

  it("Cancel on the sign-in page sends the client back with access_denied and no code", async () => {
    const oauth = new InMemoryOAuthClient("demo sign-in test (cancel)");
    const { client, transport } = oauthClient(demo.url, oauth);
    await expect(client.connect(transport)).rejects.toThrow(UnauthorizedError);
    const visit = await new SignInBrowser().visit(oauth.authorizationUrl as URL, { cancel: true }, CALLBACK_URL);
    expect(visit.callback.searchParams.get("error")).toBe("access_denied");
    expect(visit.callback.searchParams.has("code")).toBe(false);
    expect(oauth.tokens()).toBeUndefined();
  });

  it("the provider issues tokens for the gateway only: another resource is refused with invalid_target", async () => {
    const metadata = await discoverAuthorizationServerMetadata(issuer);
    const oauth = new InMemoryOAuthClient("demo sign-in test (elsewhere)");
    const clientInformation = await registerClient(issuer, { metadata, clientMetadata: oauth.clientMetadata, scope: "mcp" });
    const { authorizationUrl } = await startAuthorization(issuer, {
      metadata,
      clientInformation,
      redirectUrl: CALLBACK_URL,
      scope: "mcp",
      resource: new URL("http://localhost:1/mcp"),
    });
    const visit = await new SignInBrowser().visit(authorizationUrl, { user: BOSS }, CALLBACK_URL);
    expect(visit.callback.searchParams.get("error")).toBe("invalid_target");
    expect(visit.pages).toEqual([]);
  });
});

describe("signing in with the MCP Inspector CLI", () => {
  /** Runs the Inspector CLI with `args`, signing in as `user` when it asks; returns its exit code and output. */
  async function inspectorSignedInAs(user: string, args: string[]) {
    const callbackUrl = `http://127.0.0.1:${await freePort()}/oauth/callback`;
    const inspector = await startInspectorSignIn(demo.url, args, callbackUrl);
    try {
      const authorizationUrl = await inspector.authorizationUrl();
      expect(authorizationUrl.origin).toBe(issuer);
      expect(authorizationUrl.searchParams.get("resource")).toBe(demo.url);
      expect(authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256");
      const visit = await new SignInBrowser().visit(authorizationUrl, { user }, callbackUrl);
      // The end of the sign-in, where a browser hands the code to the Inspector's listener.
      const handedOver = await fetch(visit.callback);
      expect(handedOver.status).toBe(200);
      return await inspector.result();
    } finally {
      await inspector.remove();
    }
  }

  it("asks to sign in, and once jsmith has, lists no tools", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const run = await inspectorSignedInAs(JSMITH, ["--method", "tools/list"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("Authorization complete.");
    expect(JSON.parse(run.stdout)).toEqual({ tools: [] });
  });

  it("asks to sign in, and once the boss has, calls echo", { timeout: INSPECTOR_TIMEOUT }, async () => {
    const run = await inspectorSignedInAs(BOSS, ["--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hello"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ content: [{ type: "text", text: "hello" }] });
  });
});

describe("the demo identity provider across a restart", () => {
  it("still knows the clients registered before, so their next sign-in is not refused as invalid_client", async () => {
    const dir = await mkdtemp(join(tmpdir(), "demo-idp-restart-"));
    const resource = "http://localhost:9000/mcp";
    const options: OpenIdProviderOptions = {
      port: 0,
      key: await generateSigningKey(),
      users: DEMO_USERS,
      resources: [resource],
      scope: "mcp",
      clientsFile: join(dir, "clients.json"),
    };
    try {
      const before = await startOpenIdProvider(options);
      const clientInformation = await registerClient(before.issuer, {
        metadata: await discoverAuthorizationServerMetadata(before.issuer),
        clientMetadata: new InMemoryOAuthClient("registered before the restart").clientMetadata,
        scope: "mcp",
      });
      await before.close();

      const after = await startOpenIdProvider(options);
      try {
        const { authorizationUrl } = await startAuthorization(after.issuer, {
          metadata: await discoverAuthorizationServerMetadata(after.issuer),
          clientInformation,
          redirectUrl: CALLBACK_URL,
          scope: "mcp",
          resource: new URL(resource),
        });
        const visit = await new SignInBrowser().visit(authorizationUrl, { user: JSMITH }, CALLBACK_URL);
        expect(visit.pages[0]).toContain("registered before the restart");
        expect(visit.callback.searchParams.get("code")).toBeTruthy();
      } finally {
        await after.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
