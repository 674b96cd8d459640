/**
 * `subscriptions/listen` (2026-07-28) through the aggregated endpoint: two v2 SDK servers (`one` and `two`) behind one
 * gateway and a v2 client pinned to 2026-07-28. Each resource a listen names goes to the server that owns it (and to no
 * other), judged as that server's; a resource the caller may not read, or no server owns, refuses the listen before
 * any server is asked; the servers' acknowledgements reach the client as one, and each server's updates reach it.
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { multiServerSettings, startGateway, writeTempPolicy, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { startV2Backend, type V2Backend } from "../support/v2-backend.js";

const VERSION = "2026-07-28";
const PUBLIC = "docs://public/readme";
const INTERNAL = "docs://internal/roadmap";
const TWO_ONLY = "two://status";

const POLICY = `
servers:
  one:
    resources: { "docs://public/*": ["*"], "docs://internal/*": [operator] }
  two:
    resources: { "two://*": ["*"] }
`;

let idp: TestIdentityProvider;
let one: V2Backend;
let two: V2Backend;
let gateway: TestGateway;
const tokens = { operator: "", guest: "" };

interface ListeningClient {
  client: Client;
  updated: string[];
}

async function connect(token: string): Promise<ListeningClient> {
  const updated: string[] = [];
  const client = new Client({ name: "listen-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: VERSION } } });
  client.setNotificationHandler("notifications/resources/updated", (notification) => void updated.push(notification.params.uri));
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return { client, updated };
}

const listens = (backend: V2Backend) => backend.requests.filter((request) => request.rpcMethod === "subscriptions/listen");

beforeAll(async () => {
  idp = await startIdentityProvider();
  [one, two] = await Promise.all([
    startV2Backend({ capabilities: { resources: { subscribe: true } } }),
    startV2Backend({
      capabilities: { resources: { subscribe: true } },
      extend(server) {
        server.registerResource(TWO_ONLY, TWO_ONLY, { mimeType: "text/plain" }, async () => ({ contents: [{ uri: TWO_ONLY, text: "ok" }] }));
      },
    }),
  ]);
  const policyFile = await writeTempPolicy(POLICY, "multi-server-listen-");
  gateway = await startGateway(multiServerSettings(idp, [{ name: "one", url: one.url }, { name: "two", url: two.url }], policyFile));
  tokens.operator = await idp.token({ subject: "olivia", claims: { roles: ["operator"] }, expiresIn: "1h" });
  tokens.guest = await idp.token({ subject: "gus", expiresIn: "1h" });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await Promise.all([one?.close(), two?.close()]);
  await idp?.close();
});

describe("subscriptions/listen through the aggregated endpoint (2026-07-28)", () => {
  it("sends each resource to the server that owns it, acknowledges once, and delivers every server's updates", async () => {
    const via = await connect(tokens.operator);
    const before = { one: listens(one).length, two: listens(two).length };
    const subscription = await via.client.listen({ resourceSubscriptions: [PUBLIC, TWO_ONLY, INTERNAL] });
    expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: [PUBLIC, TWO_ONLY, INTERNAL] });
    // docs:// URIs are one's (the first server listing them, though two lists them too); two gets its own alone.
    expect(listens(one).slice(before.one).map((r) => (r.params?.notifications as { resourceSubscriptions?: string[] }).resourceSubscriptions)).toEqual([[PUBLIC, INTERNAL]]);
    expect(listens(two).slice(before.two).map((r) => (r.params?.notifications as { resourceSubscriptions?: string[] }).resourceSubscriptions)).toEqual([[TWO_ONLY]]);
    one.notify.resourceUpdated(INTERNAL);
    two.notify.resourceUpdated(TWO_ONLY);
    await vi.waitFor(() => expect([...via.updated].sort()).toEqual([INTERNAL, TWO_ONLY].sort()), { timeout: 5_000 });
    await subscription.close();
    await via.client.close();
  });

  it("refuses a listen naming a resource the caller may not read, or that no server owns, before any server is asked", async () => {
    const guest = await connect(tokens.guest);
    const before = { one: listens(one).length, two: listens(two).length };
    for (const uri of [INTERNAL, "nowhere://at/all"]) {
      await expect(guest.client.listen({ resourceSubscriptions: [PUBLIC, uri] }), uri).rejects.toMatchObject({ code: -32602, message: expect.stringContaining(`Unknown resource: ${uri}`) });
    }
    expect([listens(one).length, listens(two).length]).toEqual([before.one, before.two]);
    expect(gateway.logger.last()).toMatchObject({ subject: "gus", mcpMethod: "subscriptions/listen", decision: "denied" });
    await guest.client.close();
  });
});
