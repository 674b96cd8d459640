/**
 * Dry run through the gateway: decisions logged (and counted) as they would be, nothing blocked or filtered that the
 * policy in force allows; globally (POLICY_DRY_RUN) or per document in SSM (`dryRun: true`).
 */
import { randomUUID } from "node:crypto";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { POLICIES, connectClient, gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

let idp: TestIdentityProvider;
let backend: TestBackend;
let jsmith: string;

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startBackend();
  jsmith = await idp.token({ subject: "jsmith" });
});
afterAll(async () => {
  await backend?.close();
  await idp?.close();
});
beforeEach(() => {
  backend.executed.length = 0;
});

describe("POLICY_DRY_RUN=true", () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.walkthrough, POLICY_DRY_RUN: "true" }));
  });
  afterAll(() => gateway?.close());

  it("filters nothing, and logs how many items the policy would have removed", async () => {
    const client = await connectClient(gateway.url, jsmith);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo", "add", "delete_everything", "search_docs"]);
    expect(gateway.logger.last()).toMatchObject({ mcpMethod: "tools/list", decision: "allowed", dryRunListItemsRemoved: 4 });
    await client.close();
  });

  it("lets a call through that the policy would deny, and logs the would-be denial", async () => {
    const client = await connectClient(gateway.url, jsmith);
    await client.callTool({ name: "echo", arguments: { message: "hi" } });
    expect(backend.executed).toEqual([{ kind: "tool", name: "echo", arguments: { message: "hi" } }]);
    expect(gateway.logger.last()).toMatchObject({ tool: "echo", decision: "allowed", dryRunDecision: "denied" });
    await client.close();
  });
});

describe("a document in dry run, next to the policy in force (SSM)", () => {
  const ssm = new SSMClient({});
  const path = `/mcp-sso-gateway-test/${randomUUID()}`;
  let gateway: TestGateway;

  beforeAll(async () => {
    await ssm.send(new PutParameterCommand({ Name: `${path}/current`, Type: "String", Value: "tools:\n  echo: ['*']\n  add: ['*']\n" }));
    await ssm.send(new PutParameterCommand({ Name: `${path}/candidate`, Type: "String", Value: "dryRun: true\nrules:\n- deny: 'mcp.tool.name == \"add\"'\n" }));
    gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_SSM_PATH: path }));
  });
  afterAll(() => gateway?.close());

  it("enforces the policy in force, and reports what the candidate would change", async () => {
    const client = await connectClient(gateway.url, jsmith);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo", "add"]);
    expect(gateway.logger.last()).toMatchObject({ dryRunListItemsRemoved: 1 });
    await client.callTool({ name: "add", arguments: { a: 1, b: 1 } });
    expect(backend.executed.map((e) => e.name)).toEqual(["add"]);
    expect(gateway.logger.last()).toMatchObject({ tool: "add", decision: "allowed", dryRunDecision: "denied", dryRunRule: `${path}/candidate rules[0]` });
    await client.callTool({ name: "echo", arguments: { message: "x" } });
    expect(gateway.logger.last()).not.toHaveProperty("dryRunDecision");
    await client.close();
  });

  it("still refuses what the policy in force denies", async () => {
    const client = await connectClient(gateway.url, jsmith);
    await expect(client.callTool({ name: "delete_everything", arguments: {} })).rejects.toThrow("Unknown tool: delete_everything");
    expect(backend.executed).toEqual([]);
    await client.close();
  });
});
