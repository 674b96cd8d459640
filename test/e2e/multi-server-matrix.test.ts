/**
 * The version matrix through the aggregated endpoint: client generation (v1 `@modelcontextprotocol/sdk`, v2
 * `@modelcontextprotocol/client`) × protocol version, with server-everything (1.x SDK) as `everything` and the v2 SDK
 * server as `v2` behind one gateway (MCP_BACKENDS). In every cell, for each user: each list is the servers' direct
 * lists, filtered by the policy as each server's items, tools and prompts prefixed `<server>_`; an allowed call runs on
 * the server its prefix names and nowhere else, answering as directly; a denied one is refused -32602 and runs
 * nowhere. On 2026-07-28 (v2 client; only the v2 server speaks it) the client keeps to that revision's shape through
 * the gateway (server/discover, no session, routing headers), the gateway's own requests to v2 carry routing headers
 * naming the server's own names, server-everything is named unavailable, and no list leaves `cacheScope: "public"`.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEverything, type EverythingServer } from "../support/everything-server.js";
import { multiServerSettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { MODERN_VERSION, connectMatrixClient, listResults, type ClientGeneration, type ListKind, type MatrixClient } from "../support/matrix-clients.js";
import { LIST_ITEMS, USERS, allowedItem, writeMatrixPolicy, type MatrixUser } from "../support/matrix-policy.js";
import { ALLOWED, DENIED, LISTS, VERSIONS, type MatrixServer, type ToolCall } from "../support/matrix-cases.js";
import { startV2Backend, type V2Backend } from "../support/v2-backend.js";

type Server = MatrixServer;
const SERVERS: readonly Server[] = ["everything", "v2"];

interface Cell {
  client: ClientGeneration;
  version: string;
}
const CELLS: Cell[] = (["v1", "v2"] as const).flatMap((client) =>
  VERSIONS.filter((version) => !(client === "v1" && version === MODERN_VERSION)).map((version) => ({ client, version })),
);

/** The servers that speak a version: server-everything answers initialize only, so 2026-07-28 is v2's alone. */
const speaks = (server: Server, version: string) => server === "v2" || version !== MODERN_VERSION;

let idp: TestIdentityProvider;
let everything: EverythingServer;
let v2: V2Backend;
let gateway: TestGateway;

const executed = (server: Server) => (server === "everything" ? everything.executed : v2.executed);
const directUrl = (server: Server) => (server === "everything" ? everything.directUrl : v2.url);
const prefixed = (server: Server, name: string) => `${server}_${name}`;

function byKey(kind: ListKind) {
  const field = LIST_ITEMS[kind].field;
  return (a: Record<string, unknown>, b: Record<string, unknown>) => String(a[field]).localeCompare(String(b[field]));
}

beforeAll(async () => {
  [idp, everything, v2] = await Promise.all([startIdentityProvider(), startEverything(), startV2Backend()]);
  const policyFile = await writeMatrixPolicy(await mkdtemp(join(tmpdir(), "multi-server-matrix-")));
  gateway = await startGateway(multiServerSettings(idp, [{ name: "everything", url: everything.url }, { name: "v2", url: v2.url }], policyFile));
}, 60_000);
afterAll(async () => {
  await gateway?.close();
  await Promise.all([everything?.stop(), v2?.close(), idp?.close()]);
});

describe.each(CELLS)("$client client × everything + v2 behind the aggregated endpoint × $version", ({ client, version }) => {
  const direct = {} as Partial<Record<Server, MatrixClient>>;
  const via = {} as Record<MatrixUser["name"], MatrixClient>;
  const live = SERVERS.filter((server) => speaks(server, version));

  beforeAll(async () => {
    for (const server of live) direct[server] = await connectMatrixClient(client, directUrl(server), version);
    for (const user of USERS) {
      const token = await idp.token({ subject: user.name, claims: { roles: user.roles }, expiresIn: "1h" });
      via[user.name] = await connectMatrixClient(client, gateway.url, version, token);
    }
  });
  afterAll(async () => {
    await Promise.all([...Object.values(direct), ...Object.values(via)].map((c) => c?.close().catch(() => undefined)));
  });
  beforeEach(() => {
    everything.executed.length = 0;
    v2.executed.length = 0;
  });

  it(`negotiates ${version} through the aggregated endpoint`, () => {
    for (const user of USERS) expect(via[user.name].negotiatedVersion(), user.name).toBe(version);
  });

  it.each(LISTS)("%s: the servers' direct lists, each filtered as its server's items, tools and prompts prefixed", async (kind) => {
    const field = LIST_ITEMS[kind].field;
    const directLists = Object.fromEntries(await Promise.all(live.map(async (server) => [server, await (direct[server] as MatrixClient).list(kind)] as const)));
    for (const user of USERS) {
      const seen = new Set<string>();
      const expected = live.flatMap((server) =>
        (directLists[server] as Record<string, unknown>[])
          .filter((item) => allowedItem(user, kind, item))
          .flatMap((item) => {
            if (kind === "tools" || kind === "prompts") return [{ ...item, name: prefixed(server, item.name as string) }];
            // Resources keep their URIs; the first server listing one owns it.
            if (seen.has(item[field] as string)) return [];
            seen.add(item[field] as string);
            return [item];
          }),
      );
      const listed = await via[user.name].list(kind);
      expect([...listed].sort(byKey(kind)), user.name).toEqual([...expected].sort(byKey(kind)));
    }
    if (kind === "tools") {
      for (const server of live) expect((directLists[server] as unknown[]).length, `${server} lists tools the guest may not see`).toBeGreaterThan(0);
    }
  });

  it.each(USERS)("allowed calls ($name) run on the server their prefix names, and nowhere else, answering as directly", async (user) => {
    for (const server of live) {
      const call = ALLOWED[user.name](server);
      const expected = await (direct[server] as MatrixClient).callTool(call.name, call.arguments);
      expect(expected, `${server} ${call.name} directly`).toHaveProperty("result");
      everything.executed.length = 0;
      v2.executed.length = 0;
      expect(await via[user.name].callTool(prefixed(server, call.name), call.arguments), `${server}_${call.name}`).toEqual(expected);
      for (const other of SERVERS) {
        expect(executed(other), `${other} after ${server}_${call.name}`).toEqual(other === server ? [{ kind: "tool", name: call.name, arguments: call.arguments }] : []);
      }
    }
  });

  it.each(USERS)("denied calls ($name) are refused -32602 and run on no server", async (user) => {
    const attempts = SERVERS.flatMap((server) => [
      prefixed(server, DENIED[user.name](server).name),
      // The other server's tool under this server's prefix, and the bare name.
      prefixed(server, DENIED[user.name](server === "v2" ? "everything" : "v2").name),
      DENIED[user.name](server).name,
    ]);
    for (const name of attempts) {
      expect(await via[user.name].callTool(name, {}), name).toEqual({ error: { code: -32602, message: expect.stringContaining(`Unknown tool: ${name}`) } });
    }
    expect([everything.executed, v2.executed]).toEqual([[], []]);
  });

  if (version !== MODERN_VERSION) return;

  it("keeps to the 2026-07-28 shape: server/discover, no initialize, no session, Mcp-Method on every request", () => {
    const requests = via.analyst.exchanges.filter((e) => e.method === "POST");
    const methods = requests.map((e) => (e.requestBody as { method?: string }).method);
    expect(methods[0]).toBe("server/discover");
    expect(methods).not.toContain("initialize");
    for (const exchange of requests) {
      expect(exchange.responseHeaders["mcp-session-id"]).toBeUndefined();
      expect(exchange.requestHeaders["mcp-method"]).toBe((exchange.requestBody as { method?: string }).method);
    }
  });

  it("sends v2 routing headers naming its own tool (Mcp-Name add, not v2_add), with the _meta envelope", async () => {
    v2.requests.length = 0;
    const everythingFrom = everything.received.length;
    expect(await via.analyst.callTool("v2_add", { a: 1, b: 2 })).toMatchObject({ result: { content: [{ type: "text", text: "3" }] } });
    const calls = v2.requests.filter((r) => r.rpcMethod === "tools/call");
    expect(calls).toHaveLength(1);
    expect(calls[0]?.mcpHeaders).toMatchObject({ "mcp-method": "tools/call", "mcp-name": "add" });
    expect(calls[0]?.params).toMatchObject({ name: "add", _meta: expect.objectContaining({ "io.modelcontextprotocol/protocolVersion": MODERN_VERSION }) });
    expect(everything.received.slice(everythingFrom).filter((m) => m.method === "tools/call")).toEqual([]);
  });

  it('names server-everything unavailable in every list, and never lets a list out marked cacheScope "public"', async () => {
    for (const user of USERS) {
      for (const kind of LISTS) await via[user.name].list(kind);
      const lists = listResults(via[user.name].exchanges);
      expect(lists.length).toBeGreaterThanOrEqual(LISTS.length);
      for (const result of lists) {
        expect(result.cacheScope, user.name).not.toBe("public");
        const unavailable = (result._meta as Record<string, Array<{ server: string }>> | undefined)?.["mcp-sso-gateway/unavailable"] ?? [];
        expect(unavailable.map((u) => u.server)).toEqual(["everything"]);
      }
    }
    // The v2 server did ask for public caching.
    const directLists = listResults((direct.v2 as MatrixClient).exchanges);
    for (const result of directLists) expect(result).toMatchObject({ cacheScope: "public" });
  });
});
