/** The enterprise SSO walkthrough, end to end: SDK client → gateway → real MCP server, with real tokens and JWKS. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { POLICIES, connectClient, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const WALKTHROUGH_POLICY = POLICIES.walkthrough;

let idp: TestIdentityProvider;
let backend: TestBackend;
let gateway: TestGateway;
let jsmith: string;
let boss: string;

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startBackend();
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: WALKTHROUGH_POLICY }));
  jsmith = await idp.token({ subject: "jsmith", expiresIn: "10y" });
  boss = await idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] }, expiresIn: "10y" });
});

afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await idp?.close();
});

describe("the walkthrough through the gateway", () => {
  it("refuses a connection without a token, and the log line says no bearer token was found", async () => {
    await expect(connectClient(gateway.url)).rejects.toThrow();
    const response = await postRaw(gateway.url, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${gateway.origin}/.well-known/oauth-protected-resource/mcp"`,
    );
    const line = gateway.logger.last();
    expect(line).toMatchObject({ status: 401, httpMethod: "POST", path: "/mcp", reason: "no bearer token found" });
    expect(line.message).toBe("request refused: no bearer token found");
    expect(typeof line.durationMs).toBe("number");
    expect(backend.executed).toEqual([]);
  });

  it("lets jsmith connect, but echo is neither listed nor callable, and never reaches the backend", async () => {
    const client = await connectClient(gateway.url, jsmith);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([]);
    await expect(client.callTool({ name: "echo", arguments: { message: "hi" } })).rejects.toThrow(/Unknown tool: echo/);
    expect(backend.executed).toEqual([]);
    expect(gateway.logger.last()).toMatchObject({ subject: "jsmith", mcpMethod: "tools/call", tool: "echo", decision: "denied" });
    await client.close();
  });

  it("lists echo for the boss, and the backend runs it", async () => {
    const client = await connectClient(gateway.url, boss);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["echo"]);
    const result = await client.callTool({ name: "echo", arguments: { message: "hello" } });
    expect(result.content).toEqual([{ type: "text", text: "hello" }]);
    expect(backend.executed).toEqual([{ kind: "tool", name: "echo", arguments: { message: "hello" } }]);
    expect(gateway.logger.last()).toMatchObject({
      subject: "pointy-haired-boss",
      tool: "echo",
      decision: "allowed",
      rule: `${WALKTHROUGH_POLICY} rules[0]`,
    });
    await client.close();
  });

  it("logs how many items a filtered list lost", async () => {
    const client = await connectClient(gateway.url, boss);
    await client.listTools();
    expect(gateway.logger.last()).toMatchObject({ mcpMethod: "tools/list", decision: "filtered", listItemsRemoved: 3 });
    await client.close();
  });
});
