import { describe, expect, it } from "vitest";
import { AggregateCall, type AggregateContext, type AggregatedRequest } from "../../../functions/aggregate/aggregate-call.js";
import { ResourceOwners } from "../../../functions/aggregate/resource-owners.js";
import { identityFromClaims } from "../../../functions/auth/identity.js";
import { AccessLog } from "../../../functions/http/access-log.js";
import { DefinitionPinning } from "../../../functions/pins/definition-pinning.js";
import { CollectingLogger } from "../../support/gateway.js";

function callWith(owners: ResourceOwners, sessionId: string): AggregateCall {
  const request = new Request("http://gateway.test/mcp", { method: "POST", headers: { "mcp-session-id": sessionId } });
  const req = {
    request,
    post: undefined,
    identity: identityFromClaims({ iss: "https://idp.example.com", sub: "ada" }, "roles"),
    judge: () => ({ allowed: true, rule: undefined, explanation: "test" }),
    pins: new Map(),
    log: new AccessLog(new CollectingLogger(), request),
    issuer: "http://gateway.test",
    paramHeaders: [],
  } as unknown as AggregatedRequest;
  const ctx = { options: { servers: [], maxMessageBytes: 1 << 20, carriesServerRequests: true, keepAliveMs: 0, pinning: new DefinitionPinning() }, byName: new Map(), names: new Set(["a"]), owners } as unknown as AggregateContext;
  return new AggregateCall(ctx, req, undefined);
}

describe("a server's answer, filtered for the client", () => {
  it("forgets who owns which resource in the session when a server says its resources changed, and only then", async () => {
    const owners = new ResourceOwners();
    let reads = 0;
    const list = async () => {
      reads++;
      return { uris: new Set(["r://1"]), templates: [] };
    };
    await owners.lookup("session-1", ["a"], list);
    const { rewrite } = callWith(owners, "session-1").filtering("a", callWith(owners, "session-1").log);
    rewrite?.({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
    await owners.lookup("session-1", ["a"], list);
    expect(reads).toBe(1);
    rewrite?.({ jsonrpc: "2.0", method: "notifications/resources/list_changed" });
    await owners.lookup("session-1", ["a"], list);
    expect(reads).toBe(2);
  });

  it("gives the server's requests and event ids client-facing names", () => {
    const call = callWith(new ResourceOwners(), "s");
    const filtering = call.filtering("a", call.log);
    expect(filtering.rewrite?.({ jsonrpc: "2.0", id: 7, method: "sampling/createMessage" })).toEqual({ jsonrpc: "2.0", id: "a:7", method: "sampling/createMessage" });
    expect(filtering.rewriteEventId?.("e-1")).toBe("a:e-1");
  });
});
