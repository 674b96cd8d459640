import { describe, expect, it } from "vitest";
import { isDisguisedGovernedMethod, referencedItem, unknownItemMessage } from "../../../functions/mcp/guarded-methods.js";
import type { JsonRpcMessage } from "../../../functions/mcp/jsonrpc.js";

const call = (method: string, params?: unknown): JsonRpcMessage => ({ jsonrpc: "2.0", id: 1, method, params });

describe("referencedItem", () => {
  it.each([
    ["tools/call", { name: "echo", arguments: { message: "hi" } }, { kind: "tool", name: "echo", arguments: { message: "hi" } }],
    ["tools/call", { name: "echo" }, { kind: "tool", name: "echo", arguments: {} }],
    ["prompts/get", { name: "summarize" }, { kind: "prompt", name: "summarize" }],
    ["resources/read", { uri: "docs://a/b" }, { kind: "resource", name: "docs://a/b" }],
    ["resources/subscribe", { uri: "docs://a" }, { kind: "resource", name: "docs://a" }],
    ["resources/unsubscribe", { uri: "docs://a" }, { kind: "resource", name: "docs://a" }],
    ["completion/complete", { ref: { type: "ref/prompt", name: "p" }, argument: {} }, { kind: "prompt", name: "p" }],
    ["completion/complete", { ref: { type: "ref/resource", uri: "file:///{x}" } }, { kind: "resource", name: "file:///{x}", template: true }],
  ])("%s names the item it uses", (method, params, item) => {
    expect(referencedItem(call(method, params))).toEqual({ item });
  });

  it("judges notifications that use an item too", () => {
    expect(referencedItem({ jsonrpc: "2.0", method: "tools/call", params: { name: "echo" } })).toEqual({ item: { kind: "tool", name: "echo", arguments: {} } });
  });

  it("does not mix up the identifying field: a resource is named by uri, not name", () => {
    expect(referencedItem(call("resources/read", { name: "docs://a" }))).toHaveProperty("malformed");
    expect(referencedItem(call("tools/call", { uri: "echo" }))).toHaveProperty("malformed");
    expect(referencedItem(call("tools/call", { name: "echo", arguments: ["x"] }))).toEqual({ malformed: "tools/call needs params.arguments as an object" });
  });

  it.each([
    ["tools/call", undefined],
    ["tools/call", null],
    ["tools/call", []],
    ["tools/call", "echo"],
    ["tools/call", { name: 5 }],
    ["tools/call", { name: ["echo"] }],
    ["prompts/get", {}],
    ["resources/read", { uri: null }],
    ["resources/subscribe", { uri: {} }],
    ["completion/complete", {}],
    ["completion/complete", { ref: "ref/prompt" }],
    ["completion/complete", { ref: [] }],
    ["completion/complete", { ref: { type: "ref/tool", name: "echo" } }],
    ["completion/complete", { ref: { type: "ref/prompt" } }],
    ["completion/complete", { ref: { type: "ref/resource", name: "docs://a" } }],
  ])("%s with params %j is malformed", (method, params) => {
    const reference = referencedItem(call(method, params));
    expect(reference).toHaveProperty("malformed");
    expect((reference as { malformed: string }).malformed).toContain(method);
  });

  it("says which parameter is missing", () => {
    expect(referencedItem(call("tools/call", {}))).toEqual({ malformed: "tools/call needs params.name as a string" });
    expect(referencedItem(call("resources/read"))).toEqual({ malformed: "resources/read needs params.uri as a string" });
    expect(referencedItem(call("completion/complete", { ref: { type: "ref/prompt" } }))).toEqual({
      malformed: "completion/complete needs params.ref.name as a string",
    });
  });

  it.each([["ping"], ["initialize"], ["tools/list"], ["resources/templates/list"], ["notifications/initialized"], ["logging/setLevel"]])(
    "lets %s pass (nothing to judge)",
    (method) => {
      expect(referencedItem(call(method, { name: "echo", uri: "docs://a" }))).toEqual({ none: true });
    },
  );

  it("names every resource a subscriptions/listen asks to hear about (2026-07-28)", () => {
    const notifications = { toolsListChanged: true, resourceSubscriptions: ["docs://a", "docs://b"] };
    expect(referencedItem(call("subscriptions/listen", { notifications }))).toEqual({
      items: [{ kind: "resource", name: "docs://a" }, { kind: "resource", name: "docs://b" }],
    });
    expect(referencedItem(call("subscriptions/listen", { notifications: { toolsListChanged: true } }))).toEqual({ none: true });
    expect(referencedItem(call("subscriptions/listen", {}))).toEqual({ malformed: "subscriptions/listen needs params.notifications as an object" });
    expect(referencedItem(call("subscriptions/listen", { notifications: { resourceSubscriptions: ["docs://a", 5] } }))).toHaveProperty("malformed");
  });

  it.each([["tasks/get"], ["tasks/result"], ["tasks/list"], ["tasks/cancel"]])("refuses %s: tasks are not carried", (method) => {
    expect(referencedItem(call(method, { taskId: "t-1" }))).toEqual({ unsupported: "tasks are not carried by this gateway" });
  });

  it("refuses a task-augmented tool call, whatever the tool", () => {
    expect(referencedItem(call("tools/call", { name: "echo", arguments: {}, task: { ttl: 60_000 } }))).toEqual({ unsupported: "tasks are not carried by this gateway" });
  });

  it("lets responses pass", () => {
    expect(referencedItem({ jsonrpc: "2.0", id: 1, result: { name: "echo" } })).toEqual({ none: true });
  });

  it.each([["__proto__"], ["constructor"], ["toString"], ["hasOwnProperty"], ["valueOf"]])(
    "treats the Object.prototype name %s as an ungoverned method",
    (method) => {
      expect(referencedItem(call(method, { name: "echo" }))).toEqual({ none: true });
      expect(isDisguisedGovernedMethod(method)).toBe(false);
    },
  );
});

describe("isDisguisedGovernedMethod", () => {
  it.each([
    ["Tools/Call"],
    ["tools/call "],
    [" tools/call"],
    ["\ttools/call"],
    ["tools/ call"],
    ["ｔｏｏｌｓ/ｃａｌｌ"],
    ["ＴＯＯＬＳ／ＣＡＬＬ"],
    ["TOOLS/LIST"],
    ["Prompts/Get"],
    ["resources/READ"],
    ["reſources/read"],
    ["resources/templates/list\n"],
    ["completion/Complete"],
    ["RESOURCES/SUBSCRIBE"],
    ["resources/subscr\u0131be"],
    ["completıon/complete"],
    ["tools/lİst"],
    ["tools/cal\u0301l"],
  ])("detects %j", (method) => {
    expect(isDisguisedGovernedMethod(method)).toBe(true);
  });

  it.each([
    ["tools/call"],
    ["tools/list"],
    ["prompts/get"],
    ["resources/templates/list"],
    ["completion/complete"],
    ["ping"],
    ["Ping"],
    ["initialize"],
    ["tools/call2"],
    ["tools/calls"],
    ["notifications/tools/list_changed"],
    [""],
  ])("does not flag %j", (method) => {
    expect(isDisguisedGovernedMethod(method)).toBe(false);
  });
});

describe("unknownItemMessage", () => {
  it("reads as if the item did not exist", () => {
    expect(unknownItemMessage({ kind: "tool", name: "echo" })).toBe("Unknown tool: echo");
    expect(unknownItemMessage({ kind: "resource", name: "docs://x" })).toBe("Unknown resource: docs://x");
  });
});
