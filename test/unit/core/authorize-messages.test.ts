import { describe, expect, it } from "vitest";
import { identityFromClaims } from "../../../functions/auth/identity.js";
import { authorizeBody, type NotCarried } from "../../../functions/core/authorize-messages.js";
import { createJudge } from "../../../functions/core/judge.js";
import { AccessLog } from "../../../functions/http/access-log.js";
import { parseJsonRpcBody } from "../../../functions/mcp/jsonrpc.js";
import { compilePolicy } from "../../../functions/policy/compile.js";
import { parsePolicyDocument } from "../../../functions/policy/document.js";

const policy = compilePolicy([parsePolicyDocument({ origin: "native.yaml", text: "tools:\n  echo: [admin]\n  search: ['*']\nprompts:\n  p: [admin]\nresources:\n  docs://public/*: ['*']" })]);
const jsmith = identityFromClaims({ sub: "jsmith" }, "roles");
const boss = identityFromClaims({ sub: "boss", roles: ["admin"] }, "roles");

const silent = { info() {}, warn() {}, error() {} };
const newLog = () => new AccessLog(silent, new Request("http://127.0.0.1/mcp", { method: "POST" }));

function judge(body: unknown, identity = jsmith, notCarried: NotCarried = new Map()) {
  const log = newLog();
  return { verdict: authorizeBody(parseJsonRpcBody(JSON.stringify(body)), createJudge(policy, identity, false), log, notCarried), entry: log.entry };
}
const callTool = (id: number | string | null, name: string) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } });

describe("authorizeBody", () => {
  it("allows a call the policy allows, and logs the item and the rule", () => {
    const { verdict, entry } = judge(callTool(1, "echo"), boss);
    expect(verdict).toEqual({ allowed: true });
    expect(entry).toMatchObject({ mcpMethod: "tools/call", tool: "echo", rule: "native.yaml tools.echo", decision: "allowed" });
  });

  it("refuses a call the policy denies as if the tool did not exist, and logs why", () => {
    const { verdict, entry } = judge(callTool(7, "echo"));
    expect(verdict).toEqual({ allowed: false, responses: [{ jsonrpc: "2.0", id: 7, error: { code: -32602, message: "Unknown tool: echo" } }] });
    expect(entry).toMatchObject({ tool: "echo", decision: "denied" });
    expect(entry.reason).toContain('tool "echo" not allowed');
  });

  it("lets ungoverned methods, list methods and responses pass", () => {
    const body = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: {} },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { jsonrpc: "2.0", id: 3, result: {} },
      { jsonrpc: "2.0", id: 4, method: "__proto__", params: { name: "echo" } },
    ];
    const { verdict, entry } = judge(body);
    expect(verdict).toEqual({ allowed: true });
    expect(entry.mcpMethod).toBe("initialize,notifications/initialized,tools/list,__proto__");
  });

  it("refuses a whole batch when one message is refused, answering every request in it", () => {
    const body = [callTool(1, "search"), { jsonrpc: "2.0", method: "notifications/progress" }, callTool(2, "echo"), { jsonrpc: "2.0", id: 9, result: {} }];
    const { verdict } = judge(body);
    expect(verdict.allowed).toBe(false);
    expect(!verdict.allowed && verdict.responses).toEqual([
      { jsonrpc: "2.0", id: 1, error: { code: -32600, message: expect.stringContaining("another message in this batch was refused") } },
      { jsonrpc: "2.0", id: 2, error: { code: -32602, message: "Unknown tool: echo" } },
    ]);
  });

  it("answers a refused notification with id null rather than dropping it silently", () => {
    const { verdict } = judge({ jsonrpc: "2.0", method: "tools/call", params: { name: "echo" } });
    expect(verdict).toEqual({ allowed: false, responses: [{ jsonrpc: "2.0", id: null, error: { code: -32602, message: "Unknown tool: echo" } }] });
  });

  it("refuses a malformed reference with -32602, even for a caller who could use everything", () => {
    const { verdict, entry } = judge({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: 5 } }, boss);
    expect(verdict).toEqual({
      allowed: false,
      responses: [{ jsonrpc: "2.0", id: 1, error: { code: -32602, message: "Invalid params: tools/call needs params.name as a string" } }],
    });
    expect(entry.decision).toBe("denied");
  });

  it.each([["Tools/Call"], ["tools/call "], ["ｔｏｏｌｓ/ｃａｌｌ"], ["TOOLS/LIST"]])("refuses the disguised method %j with -32601", (method) => {
    const { verdict, entry } = judge({ jsonrpc: "2.0", id: 5, method, params: { name: "echo" } }, boss);
    expect(verdict).toEqual({ allowed: false, responses: [{ jsonrpc: "2.0", id: 5, error: { code: -32601, message: `Method not found: ${method}` } }] });
    expect(entry.reason).toContain("imitates a governed MCP method");
  });

  it("judges prompts and resources, and completion references", () => {
    expect(judge({ jsonrpc: "2.0", id: 1, method: "prompts/get", params: { name: "p" } }, boss).verdict.allowed).toBe(true);
    expect(judge({ jsonrpc: "2.0", id: 1, method: "prompts/get", params: { name: "p" } }).verdict.allowed).toBe(false);
    const completion = { jsonrpc: "2.0", id: 1, method: "completion/complete", params: { ref: { type: "ref/prompt", name: "p" } } };
    expect(judge(completion).verdict).toEqual({ allowed: false, responses: [{ jsonrpc: "2.0", id: 1, error: { code: -32602, message: "Unknown prompt: p" } }] });
    expect(judge({ jsonrpc: "2.0", id: 1, method: "resources/read", params: { uri: "docs://x" } }, boss).verdict.allowed).toBe(false);
  });

  describe("methods beyond calls", () => {
    const listen = (id: number, uris: string[]) => ({ jsonrpc: "2.0", id, method: "subscriptions/listen", params: { notifications: { resourceSubscriptions: uris } } });

    it("refuses a subscriptions/listen naming any resource the caller may not read, as if it did not exist", () => {
      expect(judge(listen(1, ["docs://public/a", "docs://public/b"])).verdict).toEqual({ allowed: true });
      const { verdict, entry } = judge(listen(2, ["docs://public/a", "docs://internal/x"]));
      expect(verdict).toEqual({ allowed: false, responses: [{ jsonrpc: "2.0", id: 2, error: { code: -32602, message: "Unknown resource: docs://internal/x" } }] });
      expect(entry.reason).toContain('resource "docs://internal/x" not allowed');
    });

    it("refuses tasks: tasks/* as unknown methods, a task-augmented call as invalid params", () => {
      const { verdict, entry } = judge({ jsonrpc: "2.0", id: 3, method: "tasks/get", params: { taskId: "t" } }, boss);
      expect(verdict).toEqual({ allowed: false, responses: [{ jsonrpc: "2.0", id: 3, error: { code: -32601, message: "Method not found: tasks/get" } }] });
      expect(entry.reason).toBe("tasks/get: tasks are not carried by this gateway");
      const augmented = judge({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "echo", arguments: {}, task: {} } }, boss).verdict;
      expect(augmented).toMatchObject({ allowed: false, responses: [{ id: 4, error: { code: -32602 } }] });
    });

    it("refuses what the front door cannot carry, with the reason in the log", () => {
      const notCarried = new Map([["subscriptions/listen", "a buffered front door cannot hold a long-lived stream"]]);
      const { verdict, entry } = judge(listen(5, []), boss, notCarried);
      expect(verdict).toEqual({ allowed: false, responses: [{ jsonrpc: "2.0", id: 5, error: { code: -32601, message: "Method not found: subscriptions/listen is not available on this endpoint" } }] });
      expect(entry.reason).toBe("subscriptions/listen is not carried by this front door: a buffered front door cannot hold a long-lived stream");
    });
  });
});
