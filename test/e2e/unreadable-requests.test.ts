/**
 * Requests the gateway cannot read as they came: a Host header WHATWG URL parsing refuses although node's HTTP
 * parser took it (`xn--`), targets the local adapter cannot turn into a Request, Lambda events whose header values a
 * Request refuses, and bodies nested deeper than anything the gateway walks. Each gets a defined 400 with a JSON-RPC
 * error and exactly one access-log line, never a 500, an empty answer, or a silent drop; the backend receives nothing.
 */
import { request as httpRequest } from "node:http";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { httpApiEvent, lambdaContext, restApiEvent } from "../support/api-gateway-events.js";
import { captureFunctionLogs } from "../support/function-logs.js";
import { setFunctionEnvironment } from "../support/function-environment.js";
import { POLICIES, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { AUDIENCE, ISSUER, startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { startScriptedBackend, type ScriptedBackend } from "../property/support/scripted-backend.js";

let idp: TestIdentityProvider;
let backend: ScriptedBackend;
let gateway: TestGateway;
let boss: string;

beforeAll(async () => {
  [idp, backend] = await Promise.all([startIdentityProvider(), startScriptedBackend()]);
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: POLICIES.walkthrough }));
  boss = await idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] } });
});

afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await idp?.close();
});

interface RawReply {
  status: number;
  contentType: string | undefined;
  body: string;
}

/** A request as node's HTTP client writes it, with any Host header and target. */
function rawRequest(target: string, headers: Record<string, string>, body?: string): Promise<RawReply> {
  const { port } = new URL(gateway.origin);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: "127.0.0.1", port, path: target, method: body === undefined ? "GET" : "POST", headers }, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, contentType: response.headers["content-type"], body: text }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** What one request produced: its reply, and the access-log lines written meanwhile (there must be exactly one). */
async function exchange(send: () => Promise<RawReply>): Promise<{ reply: RawReply; lines: Record<string, unknown>[] }> {
  const before = gateway.logger.requests().length;
  const receivedBefore = backend.received.length;
  const reply = await send();
  await expect.poll(() => gateway.logger.requests().length).toBeGreaterThan(before);
  expect(backend.received.length).toBe(receivedBefore);
  return { reply, lines: gateway.logger.requests().slice(before) };
}

const BAD_REQUEST = { jsonrpc: "2.0", id: null, error: { code: -32600, message: expect.stringMatching(/^Bad Request: the request's/) } };

describe("a request whose URL cannot be read", () => {
  // `xn--` passes node's HTTP parser and the adapter's host check, but WHATWG URL parsing refuses it (an empty
  // Punycode label): the gateway's first look at the URL used to throw outside its error handling.
  it.each(["xn--", "xn--a", "xn--.example.com"])("answers a Host of %j with 400 and one log line", async (host) => {
    const { reply, lines } = await exchange(() => rawRequest("/mcp", { host }, '{"jsonrpc":"2.0","id":1,"method":"ping"}'));
    expect(reply.status).toBe(400);
    expect(reply.contentType).toBe("application/json");
    expect(JSON.parse(reply.body)).toEqual(BAD_REQUEST);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 400, path: "/mcp", httpMethod: "POST", reason: expect.stringContaining("is not a valid URL") });
  });

  // These the local adapter's Request bridge refuses before the gateway runs; the gateway still answers and logs.
  it.each([
    ["a Host with a space", "/mcp", { host: "exa mple.com" }],
    ["a Host with a path", "/mcp", { host: "example.com/x" }],
    ["a backslash in the path", "/mcp\\..\\admin", { host: "localhost" }],
  ] as const)("answers %s with 400 and one log line", async (_, target, headers) => {
    const { reply, lines } = await exchange(() => rawRequest(target, headers));
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual(BAD_REQUEST);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 400, httpMethod: "GET", reason: expect.stringMatching(/^the request cannot be read: /) });
  });
});

describe("a body nested deeper than the gateway walks", () => {
  const deep = (levels: number) => `${"[".repeat(levels)}"x"${"]".repeat(levels)}`;
  const callWith = (args: string) => `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi","nested":${args}}}}`;

  // With an Mcp-Param header the arguments are walked to find the header's value: 100,000 levels overflowed the
  // stack (500, no log line). Refused before anything walks them.
  it("answers a tools/call with 100,000-level arguments and an Mcp-Param header with 400 and one log line", async () => {
    const { reply, lines } = await exchange(async () => {
      const response = await postRaw(gateway.url, callWith(deep(100_000)), { authorization: `Bearer ${boss}`, "mcp-param-message": "hi" });
      return { status: response.status, contentType: response.headers.get("content-type") ?? undefined, body: await response.text() };
    });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid Request: the body nests more than 128 levels deep" } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 400, reason: "body nests more than 128 levels deep" });
  });

  it("still forwards a call nested 120 levels deep", async () => {
    const response = await postRaw(gateway.url, callWith(deep(120)), { authorization: `Bearer ${boss}` });
    expect(response.status).toBe(200);
    expect(backend.executed.at(-1)).toMatchObject({ kind: "tool", name: "echo" });
  });
});

describe("a Lambda event that cannot become a Request", () => {
  type Handler = (typeof import("../../functions/handler.js"))["handler"];
  let handler: Handler;
  let restoreEnvironment: () => void = () => undefined;
  let logLines: Record<string, unknown>[];

  beforeAll(async () => {
    restoreEnvironment = setFunctionEnvironment({
      MCP_BACKEND_URL: backend.url,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWKS_URI: idp.jwksUri,
      POLICY_FILE: fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url)),
    });
    ({ lines: logLines } = captureFunctionLogs("mcp-sso-gateway"));
    ({ handler } = await import("../../functions/handler.js"));
  });
  afterAll(() => {
    vi.restoreAllMocks();
    restoreEnvironment();
  });

  // API Gateway passes header values as the client sent them; a Request refuses some (a NUL, a character above
  // U+00FF). Converting the event used to throw before the gateway ran: Lambda's own error, no log line.
  it.each([
    ["an HTTP API event", (value: string) => httpApiEvent({ method: "POST", path: "/mcp", headers: { "x-odd": value }, body: "{}" }, { domainName: "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", stage: "$default" })],
    ["a REST API event", (value: string) => restApiEvent({ method: "POST", path: "/mcp", headers: { "x-odd": value }, body: "{}" }, { domainName: "mcp.example.com", stage: "prod" })],
  ] as const)("answers %s with a header value a Request refuses with 400 and one log line", async (_, event) => {
    for (const value of ["a\u0000b", "\u2028"]) {
      const before = logLines.length;
      const result = await handler(event(value) as never, lambdaContext());
      expect(result.statusCode).toBe(400);
      expect(JSON.parse(result.body as string)).toEqual(BAD_REQUEST);
      const written = logLines.slice(before).filter((line) => "status" in line);
      expect(written).toHaveLength(1);
      expect(written[0]).toMatchObject({ status: 400, path: "/mcp", httpMethod: "POST", reason: expect.stringMatching(/^the request cannot be read: /) });
    }
  });
});
