/**
 * Real MCP servers behind one gateway: our echo backend (v1 SDK, as `docs`), server-everything (as `everything`), a
 * v2 SDK server (as `v2`), and a v1 low-level server whose lists come in pages (as `pages`). Through the aggregated endpoint and through each server's own, an SDK
 * client and the Inspector CLI list, call and page, with a policy that names servers (`mcp.tool.target` and native
 * `servers:` grants). Assertions are on what each backend executed, not only on what the client saw.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startEverything, type EverythingServer } from "../support/everything-server.js";
import { MCP_HEADERS, connectClient, multiServerSettings, startGateway, writeTempPolicy, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { parseJsonOutput, runInspectorCli } from "../support/inspector.js";
import { PAGED_RESOURCES, startPagingBackend } from "../support/paging-backend.js";
import { startV2Backend, type V2Backend } from "../support/v2-backend.js";

const POLICY = `
# Tools by server and name (agentgateway's form), prompts and resources per server (the native form).
rules:
  - 'mcp.tool.target == "docs" && mcp.tool.name == "echo"'
  - 'mcp.tool.target == "everything" && (mcp.tool.name == "echo" || mcp.tool.name == "get-sum")'
  - 'mcp.tool.target == "v2" && mcp.tool.name == "add" && has(jwt.roles) && "analyst" in jwt.roles'
  - 'mcp.tool.target == "pages" && mcp.tool.name != "t4"'
servers:
  pages:
    resources: { "paged://*": ["*"] }
  docs:
    prompts: { summarize: ["*"] }
    resources: { "docs://public/*": ["*"] }
  everything:
    resources: { "demo://resource/static/document/*": ["*"], "demo://resource/dynamic/text/{id}": [analyst] }
  v2:
    prompts: { summarize: [analyst] }
    resources: { "docs://internal/*": [analyst] }
`;

let idp: TestIdentityProvider;
let docs: TestBackend;
let everything: EverythingServer;
let v2: V2Backend;
let pages: TestBackend;
let gateway: TestGateway;
let policyFile: string;
let guest: string;
let analyst: string;
const SESSION_KEY = "k".repeat(40);

/** Every tool name the client is shown, page by page. */
async function allToolNames(client: Client): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return names.sort();
}

function settings(extra: Record<string, string> = {}): Record<string, string> {
  const servers = [
    { name: "docs", url: docs.url },
    { name: "everything", url: everything.url },
    { name: "v2", url: v2.url },
    { name: "pages", url: pages.url },
  ];
  return multiServerSettings(idp, servers, policyFile, extra);
}

beforeAll(async () => {
  idp = await startIdentityProvider();
  [docs, everything, v2, pages] = await Promise.all([startBackend(), startEverything(), startV2Backend(), startPagingBackend()]);
  policyFile = await writeTempPolicy(POLICY, "multi-server-");
  gateway = await startGateway(settings());
  guest = await idp.token({ subject: "guest" });
  analyst = await idp.token({ subject: "ann", claims: { roles: ["analyst"] } });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all([docs?.close(), everything?.stop(), v2?.close(), pages?.close()]);
  await idp?.close();
});

describe("the aggregated endpoint", () => {
  it("lists every server's tools, prefixed, each filtered by the policy with its server as target", async () => {
    const asGuest = await connectClient(gateway.url, guest);
    const asAnalyst = await connectClient(gateway.url, analyst);
    try {
      expect(await allToolNames(asGuest)).toEqual(["docs_echo", "everything_echo", "everything_get-sum", "pages_t1", "pages_t2", "pages_t3", "pages_t5"]);
      expect(await allToolNames(asAnalyst)).toEqual(["docs_echo", "everything_echo", "everything_get-sum", "pages_t1", "pages_t2", "pages_t3", "pages_t5", "v2_add"]);
      // The first page holds every server's first page; the pages server has more, behind the sealed cursor.
      const first = await asGuest.listTools();
      expect(first.tools.map((t) => t.name).sort()).toEqual(["docs_echo", "everything_echo", "everything_get-sum", "pages_t1", "pages_t2"]);
      expect(first.nextCursor).toMatch(/^s1\./);
      expect(asGuest.getServerVersion()?.name).toBe("mcp-sso-gateway");
      expect(asGuest.getServerCapabilities()).toMatchObject({ tools: {}, prompts: {}, resources: {} });
    } finally {
      await Promise.all([asGuest.close(), asAnalyst.close()]);
    }
  });

  it("routes a call to the server its prefix names, without the prefix; a denied or unowned name runs nowhere", async () => {
    const client = await connectClient(gateway.url, analyst);
    try {
      const before = { docs: docs.executed.length, everything: everything.executed.length, v2: v2.executed.length };
      expect(await client.callTool({ name: "everything_echo", arguments: { message: "hi" } })).toMatchObject({ content: [{ type: "text", text: "Echo: hi" }] });
      expect(await client.callTool({ name: "docs_echo", arguments: { message: "hello" } })).toMatchObject({ content: [{ type: "text", text: "hello" }] });
      expect(await client.callTool({ name: "v2_add", arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ type: "text", text: "5" }] });
      expect(everything.executed.slice(before.everything)).toEqual([{ kind: "tool", name: "echo", arguments: { message: "hi" } }]);
      expect(docs.executed.slice(before.docs)).toEqual([{ kind: "tool", name: "echo", arguments: { message: "hello" } }]);
      expect(v2.executed.slice(before.v2)).toEqual([expect.objectContaining({ kind: "tool", name: "add" })]);
      for (const name of ["docs_delete_everything", "v2_delete_everything", "nobody_echo", "echo", "_echo", "docs_", "everything_echo_"]) {
        await expect(client.callTool({ name, arguments: {} }), name).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(`Unknown tool: ${name}`) });
      }
      expect([docs.executed.length, everything.executed.length, v2.executed.length]).toEqual([before.docs + 1, before.everything + 1, before.v2 + 1]);
      // A denied call's log line names the server whose tool it was, and the server's own name for it.
      await expect(client.callTool({ name: "docs_delete_everything", arguments: {} })).rejects.toMatchObject({ code: -32602 });
      expect(gateway.logger.last()).toMatchObject({ server: "docs", tool: "delete_everything", decision: "denied" });
    } finally {
      await client.close();
    }
  });

  it("answers ping itself, and sends logging/setLevel to every server", async () => {
    const client = await connectClient(gateway.url, guest);
    try {
      const before = everything.received.length;
      await expect(client.ping()).resolves.toEqual({});
      expect(everything.received.slice(before).map((m) => m.method)).not.toContain("ping");
      await expect(client.setLoggingLevel("warning")).resolves.toEqual({});
      expect(everything.received.slice(before)).toContainEqual({ method: "logging/setLevel", params: { level: "warning" } });
    } finally {
      await client.close();
    }
  });

  it("pages through every server's resources with sealed cursors: the union of what each server lists and the policy allows", async () => {
    const client = await connectClient(gateway.url, analyst);
    try {
      const uris: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await client.listResources(cursor ? { cursor } : {});
        uris.push(...page.resources.map((r) => r.uri));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 50);
      expect(pages).toBeGreaterThan(1);
      expect(uris).toContain("docs://public/readme");
      // docs lists docs://internal/roadmap first, so it is docs's, whose grants give it nobody: v2's entry (granted to
      // analysts) does not stand in for it, since a read would go to docs and be refused (as the next test shows).
      expect(uris).not.toContain("docs://internal/roadmap");
      expect(uris).toContain("demo://resource/static/document/features.md");
      for (const uri of PAGED_RESOURCES) expect(uris).toContain(uri);
      expect(uris.every((uri) => /^(docs:\/\/(public|internal)\/|demo:\/\/resource\/static\/document\/|paged:\/\/)/.test(uri))).toBe(true);
      // docs://public/readme is listed by docs and by v2: the first server in configuration order owns it, once.
      expect(uris.filter((uri) => uri === "docs://public/readme")).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it("reads a resource from the server that lists it, judged as that server's", async () => {
    const client = await connectClient(gateway.url, analyst);
    const asGuest = await connectClient(gateway.url, guest);
    try {
      const before = { docs: docs.executed.length, v2: v2.executed.length, pages: pages.executed.length };
      // docs lists docs://internal/roadmap before v2 does: it is docs's, whose grants give it nobody; v2 is not asked.
      await expect(client.readResource({ uri: "docs://internal/roadmap" })).rejects.toMatchObject({ code: -32602 });
      // So is a URI docs's template expands to, though v2's template does too.
      await expect(client.readResource({ uri: "docs://internal/plans" })).rejects.toMatchObject({ code: -32602 });
      // A URI only server-everything's template expands to is its, which grants it to analysts.
      const everythingBefore = everything.executed.length;
      expect((await client.readResource({ uri: "demo://resource/dynamic/text/1" })).contents[0]).toMatchObject({ uri: "demo://resource/dynamic/text/1" });
      await expect(asGuest.readResource({ uri: "demo://resource/dynamic/text/1" })).rejects.toMatchObject({ code: -32602 });
      expect(everything.executed.slice(everythingBefore)).toEqual([{ kind: "resource", name: "demo://resource/dynamic/text/1" }]);
      expect((await asGuest.readResource({ uri: "paged://r5" })).contents[0]).toMatchObject({ text: "content of paged://r5" });
      await expect(client.readResource({ uri: "nowhere://at/all" })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining("Unknown resource") });
      expect(docs.executed.length).toBe(before.docs);
      expect(v2.executed.length).toBe(before.v2);
      expect(pages.executed.slice(before.pages)).toEqual([{ kind: "resource", name: "paged://r5" }]);
    } finally {
      await Promise.all([client.close(), asGuest.close()]);
    }
  });

  it("refuses a cursor of another caller, of another list, or altered", async () => {
    const client = await connectClient(gateway.url, analyst);
    const other = await connectClient(gateway.url, guest);
    try {
      const first = await client.listResources();
      const cursor = first.nextCursor as string;
      expect(cursor).toBeTruthy();
      await expect(other.listResources({ cursor })).rejects.toMatchObject({ code: -32602 });
      await expect(client.listTools({ cursor })).rejects.toMatchObject({ code: -32602 });
      await expect(client.listResources({ cursor: `${cursor.slice(0, -2)}AA` })).rejects.toMatchObject({ code: -32602 });
      await expect(client.listResources({ cursor: "page-2" })).rejects.toMatchObject({ code: -32602 });
      // The pages server never saw a cursor but its own.
      expect(pages.executed).not.toContainEqual(expect.objectContaining({ name: "page-2" }));
    } finally {
      await Promise.all([client.close(), other.close()]);
    }
  });

  it("keeps the session across a gateway restart with the same session key, and not with another", async () => {
    const env = settings({ SESSION_KEY_SECRET_ID: "", SESSION_KEY_SSM_PARAMETER: "" });
    const keyed = { ...env };
    const first = await startGateway({ ...keyed, ...(await sessionKeyEnv()) });
    const init = await fetch(first.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${guest}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
    });
    expect(init.status).toBe(200);
    const sessionId = init.headers.get("mcp-session-id") as string;
    await first.close();
    const second = await startGateway({ ...keyed, ...(await sessionKeyEnv()) });
    const other = await startGateway(settings());
    try {
      const list = (url: string) =>
        fetch(url, {
          method: "POST",
          headers: { ...MCP_HEADERS, authorization: `Bearer ${guest}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
        });
      const continued = await list(second.url);
      expect(continued.status).toBe(200);
      expect(((await continued.json()) as { result: { tools: Array<{ name: string }> } }).result.tools.map((t) => t.name).sort()).toEqual(["docs_echo", "everything_echo", "everything_get-sum", "pages_t1", "pages_t2"]);
      expect((await list(other.url)).status).toBe(404);
    } finally {
      await Promise.all([second.close(), other.close()]);
    }
  });
});

/** A session key in moto's Secrets Manager, the same for every gateway started with it. */
async function sessionKeyEnv(): Promise<Record<string, string>> {
  const { SecretsManagerClient, CreateSecretCommand } = await import("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({});
  const name = "multi-server-session-key";
  await client.send(new CreateSecretCommand({ Name: name, SecretString: SESSION_KEY })).catch(() => undefined);
  return { SESSION_KEY_SECRET_ID: name };
}

describe("each server's own endpoint", () => {
  it("is that server alone, names unprefixed, judged with its name as target", async () => {
    const client = await connectClient(`${gateway.url}/everything`, guest);
    try {
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["echo", "get-sum"]);
      const before = everything.executed.length;
      expect(await client.callTool({ name: "echo", arguments: { message: "direct" } })).toMatchObject({ content: [{ text: "Echo: direct" }] });
      expect(everything.executed.slice(before)).toEqual([{ kind: "tool", name: "echo", arguments: { message: "direct" } }]);
      await expect(client.callTool({ name: "everything_echo", arguments: { message: "x" } })).rejects.toMatchObject({ code: -32602 });
    } finally {
      await client.close();
    }
  });

  it("has its own RFC 9728 resource, and a session id that opens on no other endpoint", async () => {
    const metadata = await fetch(`${gateway.origin}/.well-known/oauth-protected-resource/mcp/docs`);
    expect(await metadata.json()).toMatchObject({ resource: `${gateway.origin}/mcp/docs` });
    const challenge = await fetch(`${gateway.url}/docs`, { method: "POST", headers: MCP_HEADERS, body: "{}" });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get("www-authenticate")).toContain(`${gateway.origin}/.well-known/oauth-protected-resource/mcp/docs`);
    const init = await fetch(`${gateway.url}/docs`, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${guest}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
    });
    const sessionId = init.headers.get("mcp-session-id") as string;
    expect(sessionId).toBeTruthy();
    for (const url of [`${gateway.url}/everything`, gateway.url]) {
      const elsewhere = await fetch(url, {
        method: "POST",
        headers: { ...MCP_HEADERS, authorization: `Bearer ${guest}`, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
      });
      expect(elsewhere.status, url).toBe(404);
    }
  });
});

describe("the Inspector CLI", () => {
  it("lists (every page), calls through the aggregated endpoint, and lists a server's own", async () => {
    const auth = ["--header", `Authorization: Bearer ${guest}`];
    const listed = await runInspectorCli(gateway.url, [...auth, "--method", "tools/list"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((parseJsonOutput(listed) as { tools: Array<{ name: string }> }).tools.map((t) => t.name).sort()).toEqual(["docs_echo", "everything_echo", "everything_get-sum", "pages_t1", "pages_t2", "pages_t3", "pages_t5"]);
    const before = everything.executed.length;
    const called = await runInspectorCli(gateway.url, [...auth, "--method", "tools/call", "--tool-name", "everything_echo", "--tool-arg", "message=inspected"]);
    expect(called.code, called.stderr).toBe(0);
    expect(parseJsonOutput(called)).toMatchObject({ content: [{ text: "Echo: inspected" }] });
    expect(everything.executed.slice(before)).toEqual([{ kind: "tool", name: "echo", arguments: { message: "inspected" } }]);
    const own = await runInspectorCli(`${gateway.url}/docs`, [...auth, "--method", "tools/list"]);
    expect((parseJsonOutput(own) as { tools: Array<{ name: string }> }).tools.map((t) => t.name)).toEqual(["echo"]);
  }, 120_000);
});
