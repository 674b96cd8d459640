/**
 * Client generation × server generation × protocol version, through the gateway and directly.
 *
 * Every pairing of MCP client (v1 `@modelcontextprotocol/sdk`, v2 `@modelcontextprotocol/client`) and server
 * (server-everything on the 1.x SDK, a v2 SDK server) must work through the gateway at every protocol version the
 * pair negotiates directly, with the policy applied per user: lists equal to the direct lists minus exactly what the
 * policy denies, allowed calls answered as directly (and run by the backend), denied calls refused as unknown tools
 * (and never run). On 2026-07-28 (no initialize, no sessions, routing headers, cacheable lists) the gateway must also
 * carry `Mcp-Param-*` headers and must never let a per-user list out marked `cacheScope: "public"`.
 *
 * Pairings that cannot negotiate a version even directly are listed as not applicable, with the check that shows it.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SUPPORTED_PROTOCOL_VERSIONS as V1_SUPPORTED_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Executed } from "../support/backend.js";
import { startEverything, type EverythingServer } from "../support/everything-server.js";
import { gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import {
  MODERN_VERSION,
  connectMatrixClient,
  listResults,
  type ClientGeneration,
  type Exchange,
  type ListKind,
  type MatrixClient,
} from "../support/matrix-clients.js";
import { USERS, allowedItem, writeMatrixPolicy, type MatrixUser } from "../support/matrix-policy.js";
import { ALLOWED, DENIED, LISTS, VERSIONS, type MatrixServer, type ToolCall } from "../support/matrix-cases.js";
import { HEADER_TOOL, startV2Backend, type V2Backend } from "../support/v2-backend.js";

type ServerGeneration = MatrixServer;
interface Cell {
  client: ClientGeneration;
  server: ServerGeneration;
  version: string;
}
/** Why a cell cannot be negotiated even without the gateway; undefined when it can. */
function notApplicable({ client, server, version }: Cell): string | undefined {
  if (version !== MODERN_VERSION) return undefined;
  if (client === "v1") return "the v1 SDK client implements 2025 versions only (no server/discover, no _meta envelope)";
  if (server === "everything") return "server-everything is built on the 1.x SDK: it answers initialize only, so a v2 client pinned to 2026-07-28 cannot connect";
  return undefined;
}

const CELLS: Cell[] = (["v1", "v2"] as const).flatMap((client) =>
  (["everything", "v2"] as const).flatMap((server) => VERSIONS.map((version) => ({ client, server, version }))),
);
const APPLICABLE = CELLS.filter((cell) => notApplicable(cell) === undefined);
const NOT_APPLICABLE = CELLS.filter((cell) => notApplicable(cell) !== undefined).map((cell) => ({ ...cell, reason: notApplicable(cell) }));

let idp: TestIdentityProvider;
let everything: EverythingServer;
let v2Backend: V2Backend;
const gateways: Partial<Record<ServerGeneration, TestGateway>> = {};

function backend(server: ServerGeneration): { url: string; directUrl: string; executed: Executed[] } {
  return server === "everything" ? everything : { ...v2Backend, directUrl: v2Backend.url, executed: v2Backend.executed };
}

/** The gateway's last exchanges, for failure messages. */
function lastExchanges(client: MatrixClient, count = 2): string {
  return JSON.stringify(client.exchanges.slice(-count).map((e: Exchange) => ({ ...e, requestHeaders: { ...e.requestHeaders, authorization: "<redacted>" } })));
}

beforeAll(async () => {
  const policyDir = await mkdtemp(join(tmpdir(), "version-matrix-"));
  [idp, everything, v2Backend] = await Promise.all([startIdentityProvider(), startEverything(), startV2Backend()]);
  const policyFile = await writeMatrixPolicy(policyDir);
  for (const server of ["everything", "v2"] as const) {
    gateways[server] = await startGateway(gatewaySettings(idp, backend(server).url, { POLICY_FILE: policyFile }));
  }
});
afterAll(async () => {
  await Promise.all(Object.values(gateways).map((gateway) => gateway?.close()));
  await Promise.all([everything?.stop(), v2Backend?.close(), idp?.close()]);
});

describe.each(APPLICABLE)("$client client × $server server × $version", ({ client, server, version }) => {
  let direct: MatrixClient;
  const via = {} as Record<MatrixUser["name"], MatrixClient>;
  const executed = () => backend(server).executed;

  beforeAll(async () => {
    direct = await connectMatrixClient(client, backend(server).directUrl, version);
    for (const user of USERS) {
      const token = await idp.token({ subject: user.name, claims: { roles: user.roles }, expiresIn: "1h" });
      via[user.name] = await connectMatrixClient(client, (gateways[server] as TestGateway).url, version, token);
    }
  });
  afterAll(async () => {
    await Promise.all([direct, ...Object.values(via)].map((c) => c?.close().catch(() => undefined)));
  });
  beforeEach(() => {
    executed().length = 0;
  });

  it(`negotiates ${version} directly and through the gateway`, () => {
    expect(direct.negotiatedVersion()).toBe(version);
    for (const user of USERS) expect(via[user.name].negotiatedVersion(), user.name).toBe(version);
  });

  it.each(LISTS)("%s: the gateway's list is the direct list minus exactly what the policy denies each user", async (kind) => {
    const directItems = await direct.list(kind);
    for (const user of USERS) {
      const expected = directItems.filter((item) => allowedItem(user, kind, item));
      expect(await via[user.name].list(kind), `${user.name}; last exchanges: ${lastExchanges(via[user.name])}`).toEqual(expected);
    }
    // The cell proves filtering only if the policy hides something the backend offers.
    if (kind === "tools") expect(directItems.filter((item) => !allowedItem(USERS[1] as MatrixUser, kind, item)).length).toBeGreaterThan(0);
  });

  it.each(USERS)("an allowed tools/call ($name) answers as directly, and the backend ran it", async (user) => {
    const call = ALLOWED[user.name](server);
    const expected = await direct.callTool(call.name, call.arguments);
    expect(expected).toHaveProperty("result");
    executed().length = 0;
    const outcome = await via[user.name].callTool(call.name, call.arguments);
    expect(outcome, lastExchanges(via[user.name])).toEqual(expected);
    expect(executed()).toEqual([{ kind: "tool", name: call.name, arguments: call.arguments }]);
  });

  it.each(USERS)("a denied tools/call ($name) is refused as an unknown tool, and the backend never ran it", async (user) => {
    const call = DENIED[user.name](server);
    expect(await direct.callTool(call.name, call.arguments), "the tool exists and runs directly").toHaveProperty("result");
    executed().length = 0;
    const outcome = await via[user.name].callTool(call.name, call.arguments);
    expect(outcome, lastExchanges(via[user.name])).toEqual({
      error: { code: -32602, message: expect.stringContaining(`Unknown tool: ${call.name}`) },
    });
    expect(executed()).toEqual([]);
  });

  if (version !== MODERN_VERSION) return;

  it("keeps to the 2026-07-28 shape through the gateway: no initialize, no session, routing headers sent", () => {
    const requests = via.analyst.exchanges.filter((e) => e.method === "POST");
    const methods = requests.map((e) => (e.requestBody as { method?: string }).method);
    expect(methods[0]).toBe("server/discover");
    expect(methods).not.toContain("initialize");
    expect(via.analyst.exchanges.filter((e) => e.method !== "POST")).toEqual([]);
    for (const exchange of requests) {
      expect(exchange.responseHeaders["mcp-session-id"]).toBeUndefined();
      expect(exchange.requestHeaders["mcp-method"]).toBe((exchange.requestBody as { method?: string }).method);
    }
  });

  it(`calls the x-mcp-header tool (${HEADER_TOOL}) with its Mcp-Param header through the gateway`, async () => {
    const args = { region: "emea-west", days: 2 };
    await direct.list("tools"); // the client mirrors x-mcp-header arguments from the tools/list it holds
    const expected = await direct.callTool(HEADER_TOOL, args);
    expect(expected).toHaveProperty("result");
    executed().length = 0;
    v2Backend.requests.length = 0;
    await via.analyst.list("tools");
    const outcome = await via.analyst.callTool(HEADER_TOOL, args);
    const call = via.analyst.exchanges.findLast((e) => (e.requestBody as { method?: string } | undefined)?.method === "tools/call");
    expect(call?.requestHeaders["mcp-param-region"], "the client sent the header to the gateway").toBe("emea-west");
    const received = v2Backend.requests.filter((r) => r.rpcMethod === "tools/call");
    expect(received.map((r) => r.mcpHeaders["mcp-param-region"]), "Mcp-Param-Region as the backend received it").toEqual(
      received.map(() => "emea-west"),
    );
    expect(outcome, lastExchanges(via.analyst)).toEqual(expected);
    expect(executed()).toEqual([{ kind: "tool", name: HEADER_TOOL, arguments: args }]);
  });

  it('marks every list result passing the gateway cacheScope "private" (lists are per user)', async () => {
    for (const kind of LISTS) await direct.list(kind);
    const directLists = listResults(direct.exchanges);
    expect(directLists.length).toBeGreaterThan(0);
    for (const result of directLists) expect(result, "the backend asks for public caching").toMatchObject({ cacheScope: "public", ttlMs: 60_000 });
    for (const user of USERS) {
      for (const kind of LISTS) await via[user.name].list(kind);
      const lists = listResults(via[user.name].exchanges);
      expect(lists.length).toBeGreaterThanOrEqual(LISTS.length);
      for (const result of lists) {
        const items = LISTS.find((key) => Array.isArray(result[key]));
        expect({ list: items, cacheScope: result.cacheScope }, user.name).toEqual({ list: items, cacheScope: "private" });
      }
    }
  });
});

describe("cells no pairing can negotiate, even directly (not applicable)", () => {
  it.each(NOT_APPLICABLE)("n.a.: $client client × $server server × $version: $reason", async ({ client, server }) => {
    if (client === "v1") {
      expect(V1_SUPPORTED_VERSIONS).not.toContain(MODERN_VERSION);
      return;
    }
    expect(server).toBe("everything");
    await expect(connectMatrixClient("v2", everything.directUrl, MODERN_VERSION)).rejects.toMatchObject({ code: "ERA_NEGOTIATION_FAILED" });
  });
});
