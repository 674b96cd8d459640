import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  ConfigError,
  KeysUnavailableError,
  NotFoundError,
  PolicyError,
  PolicyUnavailableError,
  ProtocolError,
  UpstreamError,
  UpstreamTimeoutError,
  type GatewayError,
} from "../../../functions/errors.js";
import { bearerChallenge, errorToResponse, logReason } from "../../../functions/http/error-response.js";

const METADATA = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const SECRET_CAUSE = new Error("connect ECONNREFUSED 10.1.2.3:8000 (internal detail)");

const cases: Array<[string, GatewayError, number, number]> = [
  ["AuthenticationError without a token", new AuthenticationError("no bearer token found", false), 401, -32001],
  ["AuthenticationError with a bad token", new AuthenticationError("signature invalid", true, { cause: SECRET_CAUSE }), 401, -32001],
  ["KeysUnavailableError", new KeysUnavailableError("JWKS fetch failed", { cause: SECRET_CAUSE }), 503, -32002],
  ["PolicyUnavailableError", new PolicyUnavailableError("policy file unreadable"), 503, -32002],
  ["ProtocolError", new ProtocolError(413, -32600, "Request too large", "body over 1048576 bytes"), 413, -32600],
  ["UpstreamError", new UpstreamError("backend refused connection", { cause: SECRET_CAUSE }), 502, -32003],
  ["UpstreamTimeoutError", new UpstreamTimeoutError(25_000), 504, -32004],
  ["NotFoundError", new NotFoundError("/admin"), 404, -32601],
];

describe("errorToResponse", () => {
  it.each(cases)("maps %s to its status and JSON-RPC code, with the public message only", async (_label, error, status, code) => {
    const response = errorToResponse(error, { rpcId: 42, resourceMetadataUrl: METADATA });
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ jsonrpc: "2.0", id: 42, error: { code, message: error.message } });
    expect(text).not.toContain(error.reason);
    expect(text).not.toMatch(/stack|\s+at\s|ECONNREFUSED/);
  });

  it("answers with id null when the request id is unknown", async () => {
    const body = await errorToResponse(new NotFoundError("/x"), { resourceMetadataUrl: METADATA }).json();
    expect(body).toMatchObject({ id: null });
  });

  it("echoes a string id", async () => {
    const body = await errorToResponse(new UpstreamTimeoutError(1), { rpcId: "req-1", resourceMetadataUrl: METADATA }).json();
    expect(body).toMatchObject({ id: "req-1" });
  });

  it("adds the bearer challenge to 401s only", () => {
    for (const [, error] of cases) {
      const header = errorToResponse(error, { resourceMetadataUrl: METADATA }).headers.get("www-authenticate");
      if (error instanceof AuthenticationError) expect(header).toBe(bearerChallenge(error, METADATA));
      else expect(header).toBeNull();
    }
  });

  it("adds retry-after to 503s only", () => {
    for (const [, error] of cases) {
      const header = errorToResponse(error, { resourceMetadataUrl: METADATA }).headers.get("retry-after");
      expect(header).toBe(error.status === 503 ? "5" : null);
    }
  });

  it.each([
    ["an Error", new Error("database password is hunter2")],
    ["a TypeError", new TypeError("Cannot read properties of undefined (reading 'x')")],
    ["a string", "boom"],
    ["undefined", undefined],
    ["a plain object imitating a GatewayError", { status: 401, rpcCode: -32001, message: "fake" }],
    ["a ConfigError", new ConfigError(["JWT_ISSUER is required"])],
    ["a PolicyError", new PolicyError("policy.yaml: tools.echo: bad")],
  ])("turns %s into a generic 500 Internal error", async (_label, thrown) => {
    const response = errorToResponse(thrown, { rpcId: 3, resourceMetadataUrl: METADATA });
    expect(response.status).toBe(500);
    expect(response.headers.get("www-authenticate")).toBeNull();
    expect(await response.json()).toEqual({ jsonrpc: "2.0", id: 3, error: { code: -32603, message: "Internal error" } });
  });
});

describe("bearerChallenge", () => {
  it("has no error code when no token was presented (RFC 6750 §3.1)", () => {
    expect(bearerChallenge(new AuthenticationError("no bearer token found", false), METADATA)).toBe(`Bearer resource_metadata="${METADATA}"`);
  });

  it('says error="invalid_token" when a token was presented', () => {
    expect(bearerChallenge(new AuthenticationError("expired", true), METADATA)).toBe(
      `Bearer resource_metadata="${METADATA}", error="invalid_token"`,
    );
  });
});

describe("logReason", () => {
  it("logs a GatewayError's reason, and any other error as internal", () => {
    expect(logReason(new UpstreamTimeoutError(25_000))).toBe("backend did not answer within 25000 ms");
    expect(logReason(new Error("kaput"))).toBe("internal error: kaput");
    expect(logReason("kaput")).toBe("internal error: kaput");
  });
});
