/**
 * DNS-rebinding protection: an `Origin` the gateway does not serve, or a `Host` it does not answer to, gets 403 before
 * anything else happens (no token check, no CORS preflight answer, nothing forwarded), on the local server and on
 * the Lambda front door.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { httpApiEvent, lambdaContext } from "../support/api-gateway-events.js";
import { startRecordingBackend, type RecordingBackend } from "../support/recording-backend.js";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { INITIALIZE, MCP_HEADERS, POLICIES, gatewaySettings, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";

const APP = "https://app.example.com";
const FORBIDDEN_ORIGIN = { jsonrpc: "2.0", id: null, error: { code: -32001, message: "Forbidden: this Origin is not allowed" } };
const FORBIDDEN_HOST = { jsonrpc: "2.0", id: null, error: { code: -32001, message: "Forbidden: this Host is not allowed" } };

let idp: TestIdentityProvider;
let backend: RecordingBackend;
let gateway: TestGateway;
let token: string;

beforeAll(async () => {
  idp = await startIdentityProvider();
  backend = await startRecordingBackend();
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.allowAll, CORS_ALLOWED_ORIGINS: APP }));
  token = await idp.token({ subject: "jsmith", claims: { roles: ["admin"] }, expiresIn: "1h" });
});
afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await idp?.close();
});
beforeEach(() => {
  backend.received.length = 0;
  gateway.logger.lines.length = 0;
});

/** A raw POST over node:http, which (unlike fetch) lets the test set Host as a rebinding browser would send it. */
function post(url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { ...MCP_HEADERS, ...headers } }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text.startsWith("{") ? JSON.parse(text) : text }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(INITIALIZE));
  });
}

const reasons = () => gateway.logger.lines.map((line) => line.fields.reason);

describe("Origin", () => {
  it("refuses a foreign Origin with 403 before the token is looked at, and forwards nothing", async () => {
    const withToken = await post(gateway.url, { origin: "https://evil.example", authorization: `Bearer ${token}` });
    expect(withToken).toEqual({ status: 403, body: FORBIDDEN_ORIGIN });
    const withoutToken = await post(gateway.url, { origin: "https://evil.example" });
    expect(withoutToken.status).toBe(403);
    expect(backend.received).toHaveLength(0);
    expect(reasons()).toContain(`Origin "https://evil.example" is neither the gateway's own nor in CORS_ALLOWED_ORIGINS`);
  });

  it("refuses `Origin: null` (sandboxed frames, local files) and look-alikes of allowed origins", async () => {
    for (const origin of ["null", `${APP}.evil.example`, "http://app.example.com", `${APP}:8443`, gateway.origin.replace("127.0.0.1", "127.0.0.2")]) {
      expect((await post(gateway.url, { origin, authorization: `Bearer ${token}` })).status, origin).toBe(403);
    }
    expect(backend.received).toHaveLength(0);
  });

  it("refuses a CORS preflight from a foreign origin with 403", async () => {
    const response = await fetch(gateway.url, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets in the gateway's own origin, the configured origins, and clients that send no Origin", async () => {
    for (const headers of [{ origin: gateway.origin }, { origin: APP }, {}] as Record<string, string>[]) {
      const response = await post(gateway.url, { ...headers, authorization: `Bearer ${token}` });
      expect(response.status, JSON.stringify(headers)).toBe(200);
    }
    expect(backend.received).toHaveLength(3);
  });
});

describe("Host (local server on loopback)", () => {
  it("refuses a Host that is not this machine's (a rebound domain) with 403, and forwards nothing", async () => {
    const port = new URL(gateway.url).port;
    const response = await post(gateway.url, { host: `attacker.example:${port}`, authorization: `Bearer ${token}` });
    expect(response).toEqual({ status: 403, body: FORBIDDEN_HOST });
    expect(backend.received).toHaveLength(0);
    expect(reasons()).toContain(`Host "attacker.example:${port}" is not in ALLOWED_HOSTS`);
  });

  it("answers to localhost, 127.0.0.1 and [::1], on any port", async () => {
    const port = new URL(gateway.url).port;
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, "localhost"]) {
      expect((await post(gateway.url, { host, authorization: `Bearer ${token}` })).status, host).toBe(200);
    }
  });
});

describe("Lambda front door", () => {
  let restore: () => void = () => undefined;
  let handler: (typeof import("../../functions/handler.js"))["handler"];
  beforeAll(async () => {
    restore = setFunctionEnvironment({ ...gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.allowAll }), ALLOWED_HOSTS: "mcp.example.com" });
    // The function reads its configuration when it is first imported.
    ({ handler } = await import("../../functions/handler.js"));
  });
  afterAll(() => restore());

  const invoke = async (headers: Record<string, string>, domainName: string) => {
    const request = { method: "POST", path: "/mcp", headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify(INITIALIZE) };
    const result = await handler(httpApiEvent(request, { domainName, stage: "$default" }), lambdaContext());
    return { status: result.statusCode, body: JSON.parse(result.body as string) as unknown };
  };

  it("refuses a foreign Origin, and a Host outside ALLOWED_HOSTS when configured", async () => {
    expect(await invoke({ origin: "https://evil.example" }, "mcp.example.com")).toEqual({ status: 403, body: FORBIDDEN_ORIGIN });
    expect(await invoke({}, "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com")).toEqual({ status: 403, body: FORBIDDEN_HOST });
    expect(backend.received).toHaveLength(0);
    expect((await invoke({ origin: "https://mcp.example.com" }, "mcp.example.com")).status).toBe(200);
    expect(backend.received).toHaveLength(1);
  });
});
