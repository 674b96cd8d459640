/**
 * Authorization through the gateway, against a real MCP SDK server answering in SSE and in JSON: lists filtered,
 * denied calls refused without reaching the backend, for tools, prompts and resources, in both policy forms.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { connectClient, gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const NATIVE_POLICY = `
tools:
  echo: ["*"]
  "search_*": [employee]
  delete_everything: admin
prompts:
  summarize: ["*"]
resources:
  "docs://public/*": ["*"]
`;

const AGENTGATEWAY_POLICY = `
rules:
- 'mcp.tool.name == "echo" || mcp.tool.name.startsWith("search_")'
- 'has(mcp.prompt) && mcp.prompt.name == "summarize"'
- 'mcp.resource.name.startsWith("docs://public/")'
- allow: '"admin" in jwt.roles'
- deny: 'has(mcp.tool) && mcp.tool.name == "search_docs" && !("employee" in jwt.roles)'
`;

/** The native grants give admins echo and delete_everything; search_* is for employees only. */
const NATIVE_ADMIN_TOOLS = ["echo", "delete_everything"];
/** The rules allow admins everything, but the deny rule keeps search_docs for employees. */
const AGENTGATEWAY_ADMIN_TOOLS = ["echo", "add", "delete_everything"];

let idp: TestIdentityProvider;
let policyDir: string;

beforeAll(async () => {
  idp = await startIdentityProvider();
  policyDir = await mkdtemp(join(tmpdir(), "policy-"));
});
afterAll(() => idp?.close());

describe.each([
  { form: "native", policy: NATIVE_POLICY, adminTools: NATIVE_ADMIN_TOOLS, response: "SSE", jsonResponse: false },
  { form: "native", policy: NATIVE_POLICY, adminTools: NATIVE_ADMIN_TOOLS, response: "JSON", jsonResponse: true },
  { form: "agentgateway", policy: AGENTGATEWAY_POLICY, adminTools: AGENTGATEWAY_ADMIN_TOOLS, response: "SSE", jsonResponse: false },
  { form: "agentgateway", policy: AGENTGATEWAY_POLICY, adminTools: AGENTGATEWAY_ADMIN_TOOLS, response: "JSON", jsonResponse: true },
])("$form policy, backend answering in $response", ({ form, policy, adminTools, jsonResponse }) => {
  let backend: TestBackend;
  let gateway: TestGateway;
  let employee: Client;
  let admin: Client;

  beforeAll(async () => {
    backend = await startBackend({ jsonResponse });
    const policyFile = join(policyDir, `${form}-${jsonResponse}.yaml`);
    await writeFile(policyFile, policy);
    gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile }));
    employee = await connectClient(gateway.url, await idp.token({ subject: "emma", claims: { roles: ["employee"] } }));
    admin = await connectClient(gateway.url, await idp.token({ subject: "ada", claims: { roles: ["admin"] } }));
  });
  afterAll(async () => {
    await employee?.close();
    await admin?.close();
    await gateway?.close();
    await backend?.close();
  });
  beforeEach(() => {
    backend.executed.length = 0;
  });

  it("filters tools/list to what the caller may use", async () => {
    expect((await employee.listTools()).tools.map((t) => t.name)).toEqual(["echo", "search_docs"]);
    expect((await admin.listTools()).tools.map((t) => t.name)).toEqual(adminTools);
  });

  it("refuses a denied tool call as an unknown tool, and the backend never runs it", async () => {
    await expect(employee.callTool({ name: "delete_everything", arguments: {} })).rejects.toThrow("Unknown tool: delete_everything");
    await expect(employee.callTool({ name: "add", arguments: { a: 1, b: 2 } })).rejects.toThrow("Unknown tool: add");
    expect(backend.executed).toEqual([]);
    expect(gateway.logger.last()).toMatchObject({ tool: "add", decision: "denied", status: 200 });
  });

  it("forwards an allowed tool call, and the backend runs exactly it", async () => {
    const result = await employee.callTool({ name: "search_docs", arguments: { query: "vpn" } });
    expect(result.content).toEqual([{ type: "text", text: "results for vpn" }]);
    expect(backend.executed).toEqual([{ kind: "tool", name: "search_docs", arguments: { query: "vpn" } }]);
  });

  it("filters prompts and refuses a denied prompt", async () => {
    expect((await employee.listPrompts()).prompts.map((p) => p.name)).toEqual(["summarize"]);
    await expect(employee.getPrompt({ name: "secret_plan" })).rejects.toThrow("Unknown prompt: secret_plan");
    expect((await employee.getPrompt({ name: "summarize" })).messages).toHaveLength(1);
    expect(backend.executed).toEqual([{ kind: "prompt", name: "summarize" }]);
  });

  it("filters resources and resource templates by URI, and refuses a denied read", async () => {
    expect((await employee.listResources()).resources.map((r) => r.uri)).toEqual(["docs://public/readme"]);
    expect((await employee.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate)).toEqual(["docs://public/{name}"]);
    await expect(employee.readResource({ uri: "docs://internal/roadmap" })).rejects.toThrow("Unknown resource: docs://internal/roadmap");
    await expect(employee.readResource({ uri: "docs://internal/other" })).rejects.toThrow("Unknown resource: docs://internal/other");
    const read = await employee.readResource({ uri: "docs://public/readme" });
    expect(read.contents).toEqual([{ uri: "docs://public/readme", text: "content of docs://public/readme" }]);
    expect(backend.executed).toEqual([{ kind: "resource", name: "docs://public/readme" }]);
  });

  it("refuses completion for a prompt the caller may not use", async () => {
    await expect(
      employee.complete({ ref: { type: "ref/prompt", name: "secret_plan" }, argument: { name: "x", value: "" } }),
    ).rejects.toThrow("Unknown prompt: secret_plan");
    expect(gateway.logger.last()).toMatchObject({ mcpMethod: "completion/complete", prompt: "secret_plan", decision: "denied" });
  });
});

describe("argument-aware rules through the gateway", () => {
  let backend: TestBackend;
  let gateway: TestGateway;
  let client: Client;

  beforeAll(async () => {
    backend = await startBackend();
    const policyFile = join(policyDir, "arguments.yaml");
    await writeFile(policyFile, "tools:\n  add: { roles: ['*'], when: 'mcp.tool.arguments.a < 10' }\nrules:\n- deny: 'mcp.tool.arguments.b == 13'\n");
    gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile }));
    client = await connectClient(gateway.url, await idp.token({ subject: "emma" }));
  });
  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    await backend?.close();
  });

  it("lists the tool, since some arguments are allowed", async () => {
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["add"]);
  });

  it("forwards a call whose arguments are allowed, and refuses the others before the backend sees them", async () => {
    expect((await client.callTool({ name: "add", arguments: { a: 1, b: 2 } })).content).toEqual([{ type: "text", text: "3" }]);
    await expect(client.callTool({ name: "add", arguments: { a: 50, b: 2 } })).rejects.toThrow("Unknown tool: add");
    await expect(client.callTool({ name: "add", arguments: { a: 1, b: 13 } })).rejects.toThrow("Unknown tool: add");
    expect(backend.executed).toEqual([{ kind: "tool", name: "add", arguments: { a: 1, b: 2 } }]);
    expect(gateway.logger.last()).toMatchObject({ tool: "add", decision: "denied", rule: `${join(policyDir, "arguments.yaml")} rules[0]` });
  });
});
