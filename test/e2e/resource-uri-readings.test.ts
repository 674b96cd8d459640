/**
 * Resource URIs judged as the backend resolves them, end to end: the real gateway (identity provider with a real
 * JWKS, policy file) in front of real MCP SDK servers of both generations, each serving a `file:///public/{name}`
 * template and a secret resource outside it, `file:///secret`.
 *
 * For each spelling an attacker would try, the test first reads it from the backend directly, to show that the SDK
 * really resolves it to the secret (the attack is real: the SDK does `new URL(uri)` and looks up `uri.toString()`),
 * then reads it through the gateway: refused with -32602 as an unknown resource, and the backend never ran it. Reads
 * the policy allows still reach the backend and run.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { McpServer as V1McpServer, ResourceTemplate as V1ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ResourceTemplate as V2ResourceTemplate } from "@modelcontextprotocol/server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { hostMcpServer } from "../../functions/demo/mcp-host.js";
import type { Executed } from "../support/backend.js";
import { connectClient, gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { startV2Backend } from "../support/v2-backend.js";

const SECRET = "file:///secret";
const SECRET_TEXT = "the secret";
const PUBLIC_TEMPLATE = "file:///public/{name}";
/** A template granted by its exact text: WHATWG would spell it `docs://public/%7Bname%7D`. */
const EXACT_TEMPLATE = "docs://public/{name}";

/** Grants the public files only (and one template by its exact text). */
const GRANT_POLICY = `
resources:
  "file:///public/*": [employee]
  "${EXACT_TEMPLATE}": [employee]
`;

/** Grants everything, and keeps the secret out with a CEL deny on the URI's prefix. */
const DENY_POLICY = `
resources:
  "*": [employee]
rules:
- deny: 'mcp.resource.uri.startsWith("${SECRET}")'
`;

/** Spellings that match `file:///public/*` as strings but resolve to the secret. */
const GRANT_BYPASSES: ReadonlyArray<readonly [string, string]> = [
  ["dot segments split by a tab", "file:///public/.\t./secret"],
  ["dot segments split by a CR", "file:///public/.\r./secret"],
  ["dot segments split by an LF", "file:///public/.\n./secret"],
  ["percent-encoded dot segments", "file:///public/%2e%2e/secret"],
  ["half percent-encoded dot segments", "file:///public/.%2E/secret"],
  ["percent-encoded dot segments split by a tab", "file:///public/%2e\t%2e/secret"],
];

/** Spellings that escape `startsWith("file:///secret")` as strings but resolve to the secret. */
const DENY_BYPASSES: ReadonlyArray<readonly [string, string]> = [
  ["an upper-case scheme", "FILE:///secret"],
  ["a mixed-case scheme", "File:///secret"],
  ["an upper-case host", "file://LOCALHOST/secret"],
  ["file://localhost/", "file://localhost/secret"],
  ["file:/ without the empty host", "file:/secret"],
  ["file: without slashes", "file:secret"],
  ["a tab inside the name", "file:///secre\tt"],
  ["backslashes", "file:\\\\\\secret"],
  ["percent-encoded dot segments", "file:///public/%2e%2e/secret"],
  ["dot segments split by a tab", "file:///public/.\t./secret"],
  ["case, localhost and encoded dot segments at once", "FILE://LocalHost/public/%2E%2E/secret"],
];

/** What both generations of backend serve and record: the public template, and the secret outside it. */
interface ResourceBackend {
  url: string;
  executed: Executed[];
  close(): Promise<void>;
}

const readText = (executed: Executed[], href: string, text: string) => {
  executed.push({ kind: "resource", name: href });
  return { contents: [{ uri: href, text }] };
};

/** The v1 SDK's McpServer (`@modelcontextprotocol/sdk`), one server per session. */
async function startV1ResourceBackend(): Promise<ResourceBackend> {
  const executed: Executed[] = [];
  const host = await hostMcpServer(() => {
    const server = new V1McpServer({ name: "v1-resources", version: "1.0.0" });
    server.registerResource("secret", SECRET, { mimeType: "text/plain" }, async (uri) => readText(executed, uri.href, SECRET_TEXT));
    server.registerResource("public", new V1ResourceTemplate(PUBLIC_TEMPLATE, { list: undefined }), {}, async (uri, { name }) =>
      readText(executed, uri.href, `public ${String(name)}`),
    );
    server.registerResource("docs", new V1ResourceTemplate(EXACT_TEMPLATE, { list: undefined }), {}, async (uri) => readText(executed, uri.href, "docs"));
    return server;
  }, { port: 0 });
  return { url: `${host.url}/mcp`, executed, close: () => host.close() };
}

/** The v2 SDK server (`@modelcontextprotocol/server`): test/support/v2-backend.ts with the same two resources added. */
async function startV2ResourceBackend(): Promise<ResourceBackend> {
  return startV2Backend({
    extend: (server, executed) => {
      server.registerResource("secret", SECRET, { mimeType: "text/plain" }, async (uri) => readText(executed, uri.href, SECRET_TEXT));
      server.registerResource("public-file", new V2ResourceTemplate(PUBLIC_TEMPLATE, { list: undefined }), {}, async (uri, { name }) =>
        readText(executed, uri.href, `public ${String(name)}`),
      );
    },
  });
}

let idp: TestIdentityProvider;
let policyDir: string;

beforeAll(async () => {
  idp = await startIdentityProvider();
  policyDir = await mkdtemp(join(tmpdir(), "resource-readings-"));
});
afterAll(() => idp?.close());

describe.each([
  { generation: "v1 SDK McpServer", start: startV1ResourceBackend },
  { generation: "v2 SDK server", start: startV2ResourceBackend },
])("$generation behind the gateway", ({ generation, start }) => {
  let backend: ResourceBackend;
  let direct: Client;
  const gateways: TestGateway[] = [];
  const employees: Record<"grant" | "deny", Client> = {} as Record<"grant" | "deny", Client>;

  beforeAll(async () => {
    backend = await start();
    direct = await connectClient(backend.url);
    const token = await idp.token({ subject: "emma", claims: { roles: ["employee"] } });
    for (const [name, policy] of [["grant", GRANT_POLICY], ["deny", DENY_POLICY]] as const) {
      const policyFile = join(policyDir, `${generation.replace(/\W+/g, "-")}-${name}.yaml`);
      await writeFile(policyFile, policy);
      const gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile }));
      gateways.push(gateway);
      employees[name] = await connectClient(gateway.url, token);
    }
  });
  afterAll(async () => {
    await Promise.all([direct?.close(), ...Object.values(employees).map((client) => client.close())]);
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await backend?.close();
  });
  beforeEach(() => {
    backend.executed.length = 0;
  });

  /** The attack is real: read directly, the spelling is the secret, and the backend ran the secret's read. */
  async function expectBackendServesSecret(uri: string): Promise<void> {
    const read = await direct.readResource({ uri });
    expect(read.contents).toEqual([{ uri: SECRET, text: SECRET_TEXT }]);
    expect(backend.executed).toEqual([{ kind: "resource", name: SECRET }]);
    backend.executed.length = 0;
  }

  async function expectGatewayRefuses(client: Client, uri: string): Promise<void> {
    await expect(client.readResource({ uri })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(`Unknown resource: ${uri}`) });
    expect(backend.executed).toEqual([]);
  }

  describe('a grant of "file:///public/*"', () => {
    it.each(GRANT_BYPASSES)("refuses %s (%j), which the backend resolves to the secret", async (_, uri) => {
      await expectBackendServesSecret(uri);
      await expectGatewayRefuses(employees.grant, uri);
    });

    it("still lets public reads through, and the backend runs them", async () => {
      const read = await employees.grant.readResource({ uri: "file:///public/a" });
      expect(read.contents).toEqual([{ uri: "file:///public/a", text: "public a" }]);
      expect(backend.executed).toEqual([{ kind: "resource", name: "file:///public/a" }]);
      backend.executed.length = 0;
      await expectGatewayRefuses(employees.grant, SECRET);
    });

    it("lists resource templates judged as written, an exact template grant included", async () => {
      const templates = (await employees.grant.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
      expect(templates).toContain(PUBLIC_TEMPLATE);
      expect(templates).toContain(EXACT_TEMPLATE);
      expect(templates).not.toContain("docs://internal/{name}");
    });
  });

  describe('a CEL deny on mcp.resource.uri.startsWith("file:///secret")', () => {
    it.each(DENY_BYPASSES)("refuses %s (%j), which the backend resolves to the secret", async (_, uri) => {
      await expectBackendServesSecret(uri);
      await expectGatewayRefuses(employees.deny, uri);
    });

    it("names the reading that was refused in the log", async () => {
      await expectGatewayRefuses(employees.deny, "FILE:///secret");
      const last = gateways[1]!.logger.last();
      expect(last).toMatchObject({ decision: "denied", resource: "FILE:///secret" });
      expect(String(last.reason)).toContain('as a backend may read it (WHATWG-normalised: "file:///secret"), denied by');
    });

    it("still lets other reads through, and the backend runs them", async () => {
      const read = await employees.deny.readResource({ uri: "file:///public/a" });
      expect(read.contents).toEqual([{ uri: "file:///public/a", text: "public a" }]);
      expect(backend.executed).toEqual([{ kind: "resource", name: "file:///public/a" }]);
    });
  });
});
