import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../../functions/errors.js";
import { RpcCode, errorResponse, isRequest, parseJsonRpcBody } from "../../../functions/mcp/jsonrpc.js";

/** The ProtocolError a body is refused with (fails the test when it is accepted). */
function refusal(text: string): ProtocolError {
  try {
    parseJsonRpcBody(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error(`accepted: ${text}`);
}

describe("parseJsonRpcBody", () => {
  it("parses a single request", () => {
    const text = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo" } });
    expect(parseJsonRpcBody(text)).toEqual({ batch: false, messages: [JSON.parse(text)], duplicateKeys: false });
  });

  it("parses notifications and responses", () => {
    expect(parseJsonRpcBody('{"jsonrpc":"2.0","method":"notifications/initialized"}').messages).toHaveLength(1);
    expect(parseJsonRpcBody('{"jsonrpc":"2.0","id":"a","result":{}}').messages[0]).toEqual({ jsonrpc: "2.0", id: "a", result: {} });
    expect(parseJsonRpcBody('{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}}').messages).toHaveLength(1);
  });

  it("parses a batch in order and says it was one", () => {
    const body = parseJsonRpcBody(
      JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "tools/list" },
        { jsonrpc: "2.0", method: "notifications/cancelled" },
        { jsonrpc: "2.0", id: 2, result: {} },
      ]),
    );
    expect(body.batch).toBe(true);
    expect(body.messages.map((m) => m.id ?? m.method)).toEqual([1, "notifications/cancelled", 2]);
  });

  it("says a batch of one is still a batch", () => {
    expect(parseJsonRpcBody('[{"jsonrpc":"2.0","id":1,"method":"ping"}]').batch).toBe(true);
  });

  it("refuses an empty batch", () => {
    const error = refusal("[]");
    expect([error.status, error.rpcCode]).toEqual([400, RpcCode.InvalidRequest]);
  });

  it.each([["{"], [""], ["{'jsonrpc':'2.0'}"], ["undefined"]])("refuses invalid JSON %j with -32700", (text) => {
    const error = refusal(text);
    expect([error.status, error.rpcCode]).toEqual([400, -32700]);
  });

  it.each([["1"], ["null"], ['"2.0"'], ["[[]]"], ['[{"jsonrpc":"2.0","id":1,"method":"ping"}, 5]']])(
    "refuses a message that is not an object: %s",
    (text) => {
      expect(refusal(text).rpcCode).toBe(-32600);
    },
  );

  it.each([['{"id":1,"method":"ping"}'], ['{"jsonrpc":"1.0","id":1,"method":"ping"}'], ['{"jsonrpc":2,"id":1,"method":"ping"}']])(
    "refuses a message that is not JSON-RPC 2.0: %s",
    (text) => {
      expect(refusal(text).rpcCode).toBe(-32600);
    },
  );

  it.each([["{}"], ["[1]"], ["true"], ["1e400"]])("refuses an id of %s", (id) => {
    const error = refusal(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`);
    expect([error.status, error.rpcCode]).toEqual([400, -32600]);
    expect(error.message).toMatch(/id/);
  });

  it.each([['"abc"'], ["0"], ["-7"], ["1.5"], ["null"]])("accepts an id of %s", (id) => {
    expect(() => parseJsonRpcBody(`{"jsonrpc":"2.0","id":${id},"method":"ping"}`)).not.toThrow();
  });

  it.each([
    ['{"jsonrpc":"2.0","id":1}'],
    ['{"jsonrpc":"2.0","result":{}}'],
    ['{"jsonrpc":"2.0","id":1,"method":5}'],
    ['{"jsonrpc":"2.0","id":1,"method":null,"result":{}}'],
  ])("refuses a message that is neither request, notification nor response: %s", (text) => {
    expect(refusal(text).rpcCode).toBe(-32600);
  });

  it("keeps the reason for the log apart from the client message", () => {
    const error = refusal("{");
    expect(error.reason).toBe("body is not valid JSON");
    expect(error.message).toMatch(/^Parse error/);
  });
});

describe("isRequest", () => {
  it("is true for a method with an id, null included", () => {
    expect(isRequest({ jsonrpc: "2.0", id: 1, method: "ping" })).toBe(true);
    expect(isRequest({ jsonrpc: "2.0", id: "x", method: "ping" })).toBe(true);
    expect(isRequest({ jsonrpc: "2.0", id: null, method: "ping" })).toBe(true);
  });

  it("is false for notifications and responses", () => {
    expect(isRequest({ jsonrpc: "2.0", method: "notifications/initialized" })).toBe(false);
    expect(isRequest({ jsonrpc: "2.0", id: undefined, method: "ping" })).toBe(false);
    expect(isRequest({ jsonrpc: "2.0", id: 1, result: {} })).toBe(false);
  });
});

describe("errorResponse", () => {
  it("echoes the id, or null when unknown", () => {
    expect(errorResponse(7, -32602, "bad")).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32602, message: "bad" } });
    expect(errorResponse(undefined, -32600, "x").id).toBeNull();
    expect(errorResponse(null, -32600, "x").id).toBeNull();
  });
});
