/**
 * Policies from SSM Parameter Store, through a real SSM-compatible endpoint (moto's server, reached through the
 * SDK's standard AWS_ENDPOINT_URL_SSM setting): merged documents, changes picked up after the cache time without a
 * restart, the last good policy kept when a new one is broken, and everything refused when there is none.
 */
import { randomUUID } from "node:crypto";
import { DeleteParametersCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type TestBackend } from "../support/backend.js";
import { connectClient, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const ssm = new SSMClient({});
const CACHE_SECONDS = 1;

let idp: TestIdentityProvider;
let backend: TestBackend;
let jsmith: string;

async function put(name: string, value: string, type: "String" | "SecureString" = "String"): Promise<void> {
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: true }));
}

function gatewayOn(path: string): Promise<TestGateway> {
  return startGateway(gatewaySettings(idp, backend.url, { POLICY_SSM_PATH: path, POLICY_CACHE_SECONDS: String(CACHE_SECONDS) }));
}

async function toolsSeenBy(gateway: TestGateway, token: string): Promise<string[]> {
  const client = await connectClient(gateway.url, token);
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

const afterCacheExpiry = () => new Promise((resolve) => setTimeout(resolve, CACHE_SECONDS * 1000 + 200));

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startBackend();
  jsmith = await idp.token({ subject: "jsmith" });
});
afterAll(async () => {
  await backend?.close();
  await idp?.close();
});

describe("policy from SSM Parameter Store", () => {
  const path = `/mcp-sso-gateway-test/${randomUUID()}`;
  let gateway: TestGateway;

  beforeAll(async () => {
    await put(`${path}/walkthrough`, `rules:\n- 'mcp.tool.name == "echo" && "admin" in jwt.roles'\n`);
    gateway = await gatewayOn(path);
  });
  afterAll(() => gateway?.close());

  it("enforces the policy stored under the path", async () => {
    expect(await toolsSeenBy(gateway, jsmith)).toEqual([]);
    expect(gateway.logger.lines.find((l) => l.message === "policy loaded")?.fields).toMatchObject({
      documents: [`${path}/walkthrough`],
    });
  });

  it("merges every document under the path, nested ones and SecureStrings included, after the cache time", async () => {
    await put(`${path}/team/search`, "tools:\n  search_docs: ['*']\n", "SecureString");
    await put(`${path}/everyone-echo`, "tools:\n  echo: ['*']\n");
    expect(await toolsSeenBy(gateway, jsmith)).toEqual([]);
    await afterCacheExpiry();
    expect(await toolsSeenBy(gateway, jsmith)).toEqual(["echo", "search_docs"]);
  });

  it("keeps the last good policy when a document becomes invalid, and says so in the log", async () => {
    await put(`${path}/everyone-echo`, "tools: [this is not a map");
    await afterCacheExpiry();
    expect(await toolsSeenBy(gateway, jsmith)).toEqual(["echo", "search_docs"]);
    const failure = gateway.logger.lines.find((l) => l.message === "policy reload failed; keeping the last good policy");
    expect(failure?.fields.error).toMatch(new RegExp(`${path}/everyone-echo`));
  });

  it("takes a deny added later, without a restart", async () => {
    await put(`${path}/everyone-echo`, "rules:\n- deny: 'mcp.tool.name == \"search_docs\"'\n");
    await afterCacheExpiry();
    expect(await toolsSeenBy(gateway, jsmith)).toEqual([]);
    expect(backend.executed).toEqual([]);
  });
});

describe("no policy at all", () => {
  it("refuses every MCP request with 503 when the path holds no parameters, and says why", async () => {
    const gateway = await gatewayOn(`/mcp-sso-gateway-test/${randomUUID()}`);
    try {
      const response = await postRaw(gateway.url, { jsonrpc: "2.0", id: 1, method: "tools/list" }, { authorization: `Bearer ${jsmith}` });
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ id: 1, error: { message: "Service unavailable: no authorization policy is loaded" } });
      expect(gateway.logger.last()).toMatchObject({ status: 503, reason: "no authorization policy is loaded (fail closed)" });
      expect(gateway.logger.lines.some((l) => l.message === "no policy could be loaded; every MCP request is refused" && /no policy parameters found/.test(String(l.fields.error)))).toBe(true);
    } finally {
      await gateway.close();
    }
  });

  it("recovers once a valid policy appears", async () => {
    const path = `/mcp-sso-gateway-test/${randomUUID()}`;
    await put(`${path}/broken`, "rules: [");
    const gateway = await gatewayOn(path);
    try {
      const first = await postRaw(gateway.url, { jsonrpc: "2.0", id: 1, method: "tools/list" }, { authorization: `Bearer ${jsmith}` });
      expect(first.status).toBe(503);
      await put(`${path}/broken`, "tools:\n  echo: ['*']\n");
      await afterCacheExpiry();
      expect(await toolsSeenBy(gateway, jsmith)).toEqual(["echo"]);
    } finally {
      await gateway.close();
      await ssm.send(new DeleteParametersCommand({ Names: [`${path}/broken`] }));
    }
  });
});
