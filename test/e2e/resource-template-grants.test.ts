/**
 * A native grant on a resource template, end to end: the real gateway (identity provider with a real JWKS, policy
 * file) in front of a real MCP SDK server (v1 McpServer) serving `demo://resource/dynamic/text/{resourceId}`, and,
 * to show what the grant must keep out, a wider template `demo://resource/dynamic/{+path}` that serves any path
 * under it. The grant `demo://resource/dynamic/text/{resourceId}: [admin]` lets an admin read the template's
 * expansions (the backend runs exactly those reads) and list the template; a caller without the role, and URIs the
 * backend would serve from the wider template (an extra segment, an encoded slash, dot segments, an empty value),
 * are refused as unknown resources before the backend sees them.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { hostMcpServer } from "../../functions/demo/mcp-host.js";
import { connectClient, gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const TEMPLATE = "demo://resource/dynamic/text/{resourceId}";
const WIDER = "demo://resource/dynamic/{+path}";
const POLICY = `resources:\n  "${TEMPLATE}": [admin]\n`;

/** URIs the backend serves (from the wider template, or the granted one) that the grant must not let through. */
const OUTSIDE_THE_GRANT: ReadonlyArray<readonly [string, string]> = [
  ["an extra segment", "demo://resource/dynamic/text/1/2"],
  ["an encoded slash", "demo://resource/dynamic/text/a%2Fb"],
  ["an encoded slash and dot segment", "demo://resource/dynamic/text/%2F.."],
  ["another folder", "demo://resource/dynamic/secret/1"],
];

let idp: TestIdentityProvider;
let backend: { url: string; close(): Promise<void> };
let gateway: TestGateway;
let direct: Client;
let admin: Client;
let user: Client;
/** The policy file, as the rules it holds are named. */
let policyFile: string;
/** Every read the backend ran, as the URI it resolved. */
const executed: string[] = [];

beforeAll(async () => {
  idp = await startIdentityProvider();
  const host = await hostMcpServer(() => {
    const server = new McpServer({ name: "template-resources", version: "1.0.0" });
    server.registerResource("dynamic-text", new ResourceTemplate(TEMPLATE, { list: undefined }), {}, async (uri, { resourceId }) => {
      executed.push(uri.href);
      return { contents: [{ uri: uri.href, text: `text ${String(resourceId)}` }] };
    });
    server.registerResource("dynamic-any", new ResourceTemplate(WIDER, { list: undefined }), {}, async (uri) => {
      executed.push(uri.href);
      return { contents: [{ uri: uri.href, text: "anything" }] };
    });
    return server;
  }, { port: 0 });
  backend = { url: `${host.url}/mcp`, close: () => host.close() };
  policyFile = join(await mkdtemp(join(tmpdir(), "template-grants-")), "policy.yaml");
  await writeFile(policyFile, POLICY);
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile }));
  direct = await connectClient(backend.url);
  admin = await connectClient(gateway.url, await idp.token({ subject: "ada", claims: { roles: ["admin"] } }));
  user = await connectClient(gateway.url, await idp.token({ subject: "uma", claims: { roles: ["user"] } }));
});
afterAll(async () => {
  await Promise.all([direct?.close(), admin?.close(), user?.close()]);
  await gateway?.close();
  await backend?.close();
  await idp?.close();
});
beforeEach(() => {
  executed.length = 0;
});

async function expectRefused(client: Client, uri: string): Promise<void> {
  await expect(client.readResource({ uri })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(`Unknown resource: ${uri}`) });
}

describe(`a grant of ${TEMPLATE} to admin`, () => {
  it("lets admin read expansions of the template, the backend running exactly those reads, decided by the grant", async () => {
    for (const id of ["1", "42"]) {
      const read = await admin.readResource({ uri: `demo://resource/dynamic/text/${id}` });
      expect(read.contents).toEqual([{ uri: `demo://resource/dynamic/text/${id}`, text: `text ${id}` }]);
    }
    expect(executed).toEqual(["demo://resource/dynamic/text/1", "demo://resource/dynamic/text/42"]);
    expect(gateway.logger.last()).toMatchObject({ decision: "allowed", rule: `${policyFile} resources.${TEMPLATE}` });
  });

  it("refuses a caller without the role, and the backend never runs the read", async () => {
    await expectRefused(user, "demo://resource/dynamic/text/1");
    expect(executed).toEqual([]);
  });

  it.each(OUTSIDE_THE_GRANT)("refuses %s (%j), which the backend would serve, and the backend never runs it", async (_, uri) => {
    const served = await direct.readResource({ uri });
    expect(served.contents).toHaveLength(1);
    expect(executed).toHaveLength(1);
    executed.length = 0;
    await expectRefused(admin, uri);
    expect(executed).toEqual([]);
  });

  it("refuses an empty value and dot segments", async () => {
    for (const uri of ["demo://resource/dynamic/text/", "demo://resource/dynamic/text/..", "demo://resource/dynamic/text/%2e%2e"]) await expectRefused(admin, uri);
    expect(executed).toEqual([]);
  });

  it("lists the template to admin only", async () => {
    const listed = async (client: Client) => (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    expect(await listed(admin)).toEqual([TEMPLATE]);
    expect(await listed(user)).toEqual([]);
    expect(await listed(direct)).toEqual([TEMPLATE, WIDER]);
  });
});

