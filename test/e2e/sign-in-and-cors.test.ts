/**
 * MCP sign-in and browser clients: the RFC 9728 metadata with the scopes to ask for, CORS answered before
 * authentication, and the caller's identity passed to the backend as headers (never the token).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRecordingBackend, type RecordingBackend } from "../support/recording-backend.js";
import { POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const APP = "https://app.example.com";
let idp: TestIdentityProvider;
let backend: RecordingBackend;
let received: Headers[] = [];
let gateway: TestGateway;

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startRecordingBackend();
  received = backend.received;
  gateway = await startGateway(
    gatewaySettings(idp, backend.url, {
      POLICY_FILE: POLICIES.allowAll,
      CORS_ALLOWED_ORIGINS: APP,
      SCOPES_SUPPORTED: "openid,mcp.tools",
      AUTHORIZATION_SERVERS: "https://login.example.com/tenant/v2.0",
      BACKEND_IDENTITY_HEADERS: "X-User-Id=sub,X-User-Roles=roles,X-User-Name=name,X-User-Email=email",
    }),
  );
});
afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await idp?.close();
});
beforeEach(() => {
  received.length = 0;
});

describe("RFC 9728 metadata", () => {
  it("tells MCP clients the resource, where to sign in, and which scopes to ask for", async () => {
    const response = await fetch(`${gateway.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(await response.json()).toEqual({
      resource: gateway.url,
      authorization_servers: ["https://login.example.com/tenant/v2.0"],
      scopes_supported: ["openid", "mcp.tools"],
      bearer_methods_supported: ["header"],
    });
  });
});

describe("CORS", () => {
  const preflight = (origin: string) =>
    fetch(gateway.url, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, mcp-session-id" },
    });

  it("answers a preflight from an allowed origin before authentication", async () => {
    const response = await preflight(APP);
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(APP);
    expect(response.headers.get("access-control-allow-headers")).toContain("Authorization");
    expect(response.headers.get("access-control-allow-headers")).toContain("Mcp-Session-Id");
    expect(response.headers.get("access-control-allow-methods")).toContain("POST");
    // Once: the answer varies by Origin, and saying it twice (Origin, Origin) would say nothing more.
    expect(response.headers.get("vary")).toBe("Origin");
    expect(received).toEqual([]);
  });

  it("allows the Mcp-Param-* headers a preflight asks for (their names depend on the tool)", async () => {
    const response = await fetch(gateway.url, {
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "mcp-method, mcp-name, mcp-param-region, x-other" },
    });
    const allowed = (response.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(["mcp-method", "mcp-name", "mcp-param-region"]));
    expect(allowed).not.toContain("x-other");
  });

  it("gives no CORS headers to another origin, and refuses it with 403 (DNS-rebinding protection)", async () => {
    const response = await preflight("https://evil.example.com");
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const refused = await postRaw(gateway.url, { jsonrpc: "2.0", id: 1, method: "ping" }, { origin: "https://evil.example.com" });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets the browser read the 401 challenge and the session id", async () => {
    const unauthenticated = await postRaw(gateway.url, { jsonrpc: "2.0", id: 1, method: "ping" }, { origin: APP });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("access-control-allow-origin")).toBe(APP);
    expect(unauthenticated.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
    expect(unauthenticated.headers.get("access-control-expose-headers")).toContain("Mcp-Session-Id");
    const ok = await postRaw(gateway.url, { jsonrpc: "2.0", id: 1, method: "ping" }, { origin: APP, authorization: `Bearer ${await idp.token()}` });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect([unauthenticated.headers.get("vary"), ok.headers.get("vary")]).toEqual(["Origin", "Origin"]);
  });
});

describe("identity to the backend", () => {
  it("sends the configured claims as headers, never the token, and ignores the client's own versions of them", async () => {
    const token = await idp.token({ subject: "jsmith", claims: { roles: ["admin", "ops"], name: "Jöhn Smith" } });
    const response = await postRaw(gateway.url, { jsonrpc: "2.0", id: 1, method: "ping" }, { authorization: `Bearer ${token}`, "x-user-id": "someone-else" });
    expect(response.status).toBe(200);
    expect(received).toHaveLength(1);
    const headers = received[0] as Headers;
    expect(headers.get("x-user-id")).toBe("jsmith");
    expect(headers.get("x-user-roles")).toBe("admin,ops");
    expect(headers.get("x-user-name")).toBe(encodeURIComponent("Jöhn Smith"));
    expect(headers.get("x-user-email")).toBeNull();
    expect(headers.get("authorization")).toBeNull();
  });
});
