/** Mcp-Method and Mcp-Name (MCP 2026-07-28) must say what the body says, or the request is refused (400, -32020). */
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../../functions/errors.js";
import { parseJsonRpcBody } from "../../../functions/mcp/jsonrpc.js";
import { checkParamHeaders, checkRoutingHeaders, decodeHeaderValue, HEADER_MISMATCH } from "../../../functions/mcp/routing-headers.js";

const call = (name: string) => parseJsonRpcBody(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } }));
const read = (uri: string) => parseJsonRpcBody(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri } }));
const list = parseJsonRpcBody(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
const base64 = (value: string) => `=?base64?${Buffer.from(value, "utf8").toString("base64")}?=`;

function refusal(headers: Record<string, string>, body = call("echo")): ProtocolError | undefined {
  try {
    checkRoutingHeaders(new Headers(headers), body);
    return undefined;
  } catch (err) {
    return err as ProtocolError;
  }
}

describe("routing headers that agree with the body pass", () => {
  it.each([
    ["no routing headers at all", {}, call("echo")],
    ["method and name", { "mcp-method": "tools/call", "mcp-name": "echo" }, call("echo")],
    ["optional whitespace around values", { "mcp-method": " tools/call\t", "mcp-name": " echo " }, call("echo")],
    ["a Base64-wrapped name", { "mcp-method": "tools/call", "mcp-name": base64("héllo wörld") }, call("héllo wörld")],
    ["a resource URI", { "mcp-method": "resources/read", "mcp-name": "docs://public/readme" }, read("docs://public/readme")],
    ["a method without a name", { "mcp-method": "tools/list" }, list],
  ])("%s", (_, headers, body) => {
    expect(refusal(headers, body)).toBeUndefined();
  });
});

describe("routing headers that disagree are refused with 400 and -32020", () => {
  it.each([
    ["another method", { "mcp-method": "tools/list" }, call("delete_everything")],
    ["another tool", { "mcp-method": "tools/call", "mcp-name": "echo" }, call("delete_everything")],
    ["a case variant of the tool", { "mcp-name": "Echo" }, call("echo")],
    ["a Base64 name that decodes to another tool", { "mcp-name": base64("echo") }, call("delete_everything")],
    ["invalid Base64 in the sentinel", { "mcp-name": "=?base64?!!!?=" }, call("echo")],
    ["Base64 of bytes that are not UTF-8", { "mcp-name": `=?base64?${Buffer.from([0xff, 0xfe]).toString("base64")}?=` }, call("echo")],
    ["a name on a method that has none", { "mcp-method": "tools/list", "mcp-name": "echo" }, list],
    ["a method header on a batch", { "mcp-method": "tools/call" }, parseJsonRpcBody(`[${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo" } })}]`)],
    ["a Base64-wrapped method (methods are never encoded)", { "mcp-method": base64("tools/call") }, call("echo")],
    ["an empty name", { "mcp-name": "" }, call("echo")],
  ])("%s", (_, headers, body) => {
    const error = refusal(headers, body);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error?.status).toBe(400);
    expect(error?.rpcCode).toBe(HEADER_MISMATCH);
  });

  it("refuses routing headers on a request without a body (GET, DELETE)", () => {
    expect(() => checkRoutingHeaders(new Headers({ "mcp-method": "tools/call" }), undefined)).toThrow(ProtocolError);
    expect(() => checkRoutingHeaders(new Headers(), undefined)).not.toThrow();
  });

  it("names both sides in the log reason", () => {
    expect(refusal({ "mcp-name": "echo" }, call("delete_everything"))?.reason).toBe('Mcp-Name header "echo" but the body names "delete_everything"');
  });
});

describe("header value decoding", () => {
  it("reads plain values as they are and unwraps the Base64 sentinel", () => {
    expect(decodeHeaderValue("echo")).toBe("echo");
    expect(decodeHeaderValue(base64("日本語"))).toBe("日本語");
    expect(decodeHeaderValue("=?base64?ZWNobw?=")).toBeUndefined();
  });
});

describe("Mcp-Param-* headers (tool arguments mirrored into headers)", () => {
  const callWith = (args: unknown) => parseJsonRpcBody(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "deploy", arguments: args } }));
  const paramRefusal = (headers: Record<string, string>, body = callWith({ region: "eu-west-1", count: 3, dry: false, target: { env: "prod" } })) => {
    try {
      checkParamHeaders(new Headers(headers), body);
      return undefined;
    } catch (err) {
      return err as ProtocolError;
    }
  };

  it.each([
    ["none at all", {}],
    ["a string argument", { "Mcp-Param-Region": "eu-west-1" }],
    ["a number, in any decimal form", { "mcp-param-count": "3.0" }],
    ["a boolean", { "mcp-param-dry": "false" }],
    ["a nested property", { "mcp-param-env": "prod" }],
    ["a Base64-wrapped value", { "mcp-param-region": base64("eu-west-1") }],
  ])("pass when they mirror an argument: %s", (_, headers) => {
    expect(paramRefusal(headers)).toBeUndefined();
  });

  it.each([
    ["a value no argument has", { "mcp-param-region": "us-east-1" }, undefined],
    ["a number that is not the argument's", { "mcp-param-count": "4" }, undefined],
    ["a value only inside a list", { "mcp-param-item": "x" }, callWith({ items: ["x"] })],
    ["invalid Base64", { "mcp-param-region": "=?base64?not base64?=" }, undefined],
    ["a request that is not a tools/call", { "mcp-param-region": "eu-west-1" }, list],
    ["a batch", { "mcp-param-region": "eu-west-1" }, parseJsonRpcBody(JSON.stringify([{ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "a", arguments: { region: "eu-west-1" } } }]))],
  ])("are refused with 400 and -32020 when they say what the body does not: %s", (_, headers, body) => {
    const error = paramRefusal(headers, body);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error?.status).toBe(400);
    expect(error?.rpcCode).toBe(HEADER_MISMATCH);
  });

  it("are refused on a request without a body (GET, DELETE)", () => {
    expect(() => checkParamHeaders(new Headers({ "mcp-param-region": "eu-west-1" }), undefined)).toThrow(ProtocolError);
  });
});
