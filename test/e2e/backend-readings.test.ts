/**
 * Backend answers that different readers read differently, through the real gateway over HTTP: a charset other than
 * UTF-8, a JSON body labelled as an event stream, keys named twice, nesting deeper than anything should walk, and
 * messages larger than MAX_BACKEND_MESSAGE_BYTES. The client must receive the bytes that were judged, or a defined
 * refusal with its log line; never a list that some parser reads with a denied item in it.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WALKTHROUGH } from "../support/fault-fixtures.js";
import { gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { sseMessages } from "../support/raw-mcp.js";
import { jsonReply, startScriptedBackend, type Reply, type ScriptedBackend } from "../property/support/scripted-backend.js";
import { readFirstOccurrence } from "../support/differential/json-readings.js";

const MAX_MESSAGE_BYTES = 65_536;
const LIST = { jsonrpc: "2.0", id: 7, method: "tools/list" };
const DENIED_TOOL = "delete_everything";

let idp: TestIdentityProvider;
let backend: ScriptedBackend;
let gateway: TestGateway;
let policyDir: string;
let boss: string;

beforeAll(async () => {
  [idp, backend] = await Promise.all([startIdentityProvider(), startScriptedBackend()]);
  policyDir = await mkdtemp(join(tmpdir(), "backend-readings-"));
  const policyFile = join(policyDir, "policy.yaml");
  await writeFile(policyFile, WALKTHROUGH);
  gateway = await startGateway(gatewaySettings(idp, backend.url, { POLICY_FILE: policyFile, MAX_BACKEND_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES) }));
  boss = await idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] } });
});

afterAll(async () => {
  await gateway?.close();
  await backend?.close();
  await idp?.close();
  if (policyDir) await rm(policyDir, { recursive: true, force: true });
});

beforeEach(() => backend.reset());

const text = (body: string) => [Buffer.from(body)];
const reply = (contentType: string, body: string, status = 200): Reply => ({ status, headers: { "content-type": contentType }, chunks: text(body) });
const sse = (data: string) => `event: message\ndata: ${data}\n\n`;
const toolsList = (names: string[]) => JSON.stringify({ jsonrpc: "2.0", id: 7, result: { tools: names.map((name) => ({ name, inputSchema: { type: "object" } })) } });

interface Exchange {
  status: number;
  contentType: string | null;
  body: string;
  line: Record<string, unknown>;
}

/** Sends one raw POST as the boss (echo allowed, nothing else), with the backend answering `answer`. */
async function exchange(answer: Reply, message: object = LIST): Promise<Exchange> {
  backend.script = () => answer;
  const before = gateway.logger.requests().length;
  const response = await postRaw(gateway.url, message, { authorization: `Bearer ${boss}` });
  const body = await response.text();
  // Another client's lines (an SDK client's GET stream ending) may come meanwhile: this request's is its POST's.
  const ours = () => gateway.logger.requests().slice(before).filter((line) => line.httpMethod === "POST" && line.mcpMethod === (message as { method?: string }).method);
  await expect.poll(() => ours().length).toBe(1);
  return { status: response.status, contentType: response.headers.get("content-type"), body, line: ours()[0] as Record<string, unknown> };
}

const BAD_GATEWAY = { jsonrpc: "2.0", id: 7, error: { code: -32003, message: "Bad gateway: the MCP server could not be reached" } };

describe("a backend answer's charset", () => {
  // A client that honours the label would decode these bytes as other text than the gateway judged (as UTF-8).
  it.each(["application/json; charset=utf-16", "application/json; charset=iso-8859-1", "text/event-stream; charset=utf-7", "application/json; charset=utf-8; charset=utf-7"])(
    "refuses a list labelled %j with 502",
    async (label) => {
      const body = label.startsWith("text/event-stream") ? sse(toolsList(["echo", DENIED_TOOL])) : toolsList(["echo", DENIED_TOOL]);
      const answer = await exchange(reply(label, body));
      expect(answer.status).toBe(502);
      expect(JSON.parse(answer.body)).toEqual(BAD_GATEWAY);
      expect(answer.line).toMatchObject({ status: 502, reason: expect.stringContaining("does not read as UTF-8") });
    },
  );

  it("passes a UTF-8 answer on with the gateway's own label, without the backend's parameters", async () => {
    const answer = await exchange(reply("Application/JSON; charset=UTF-8; profile=x", toolsList(["echo", DENIED_TOOL])));
    expect([answer.status, answer.contentType]).toEqual([200, "application/json"]);
    expect(JSON.parse(answer.body).result.tools.map((t: { name: string }) => t.name)).toEqual(["echo"]);
  });
});

describe("a JSON body labelled text/event-stream", () => {
  it("is refused with 502 on a POST: its first line is no SSE field, and a client that sniffs would read the list unfiltered", async () => {
    const answer = await exchange(reply("text/event-stream", toolsList(["echo", DENIED_TOOL])));
    expect(answer.status).toBe(502);
    expect(answer.body).not.toContain(DENIED_TOOL);
    expect(answer.line).toMatchObject({ status: 502, reason: expect.stringContaining("first line is not an SSE field") });
  });

  it("fails an SDK client's request at once instead of leaving it to wait for its timeout", async () => {
    backend.script = (_request, parsed) => {
      const message = (parsed ?? {}) as { id?: unknown; method?: string };
      if (message.method === "initialize") {
        return jsonReply({ jsonrpc: "2.0", id: message.id, result: { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "mislabelling", version: "1" } } });
      }
      if (message.method === "tools/list") return reply("text/event-stream", toolsList(["echo", DENIED_TOOL]).replace('"id":7', `"id":${JSON.stringify(message.id)}`));
      return { status: 202, headers: {}, chunks: [] };
    };
    const client = new Client({ name: "readings", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${boss}` } } }));
    try {
      // The SDK's own default request timeout is 60 s; the gateway's 502 must be what ends the request.
      await expect(client.listTools(undefined, { timeout: 20_000 })).rejects.toThrow(/502|Bad gateway/);
    } finally {
      await client.close();
    }
  });

  it("passes a stream that starts with a comment, an id or a blank line", async () => {
    for (const start of [": keep-alive\n\n", "id: 1\n", "\n\n", "retry: 1000\n\n"]) {
      const answer = await exchange(reply("text/event-stream", `${start}${sse(toolsList(["echo", DENIED_TOOL]))}`));
      expect(answer.status).toBe(200);
      expect(sseMessages(answer.body)).toEqual([JSON.parse(toolsList(["echo"]))]);
    }
  });
});

describe("keys named twice in a backend answer", () => {
  // JSON.parse (the gateway's reading) keeps the last occurrence; a client whose parser keeps the first would read
  // the first list. Each answer is judged by its last occurrence and re-serialised, so both readers see the same.
  const ANSWERS = {
    "the result named twice, the last not a list": `{"jsonrpc":"2.0","id":7,"result":${JSON.stringify({ tools: [{ name: DENIED_TOOL }] })},"result":{"content":[]}}`,
    "the list named twice": `{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"${DENIED_TOOL}"}],"tools":[{"name":"echo"}]}}`,
    "an item's name named twice": `{"jsonrpc":"2.0","id":7,"result":{"tools":[{"name":"${DENIED_TOOL}","name":"echo"}]}}`,
    "the id named twice": `{"jsonrpc":"2.0","id":99,"result":{"tools":[{"name":"${DENIED_TOOL}"}]},"id":7,"result":{"tools":[]}}`,
  };

  for (const framing of ["JSON", "SSE"] as const) {
    it.each(Object.entries(ANSWERS))(`reaches the client as one reading when ${framing} has %s`, async (_, raw) => {
      const answer = await exchange(framing === "JSON" ? reply("application/json", raw) : reply("text/event-stream", sse(raw)));
      expect(answer.status).toBe(200);
      const messageText = framing === "JSON" ? answer.body : (/^data: (.*)$/m.exec(answer.body)?.[1] as string);
      const first = readFirstOccurrence(messageText);
      expect(first).toEqual({ value: JSON.parse(messageText), duplicates: false });
      expect(messageText).not.toContain(DENIED_TOOL);
    });
  }
});

describe("nesting deeper than the gateway walks", () => {
  const deep = (levels: number) => `${"[".repeat(levels)}0${"]".repeat(levels)}`;
  const resultWith = (value: string) => `{"jsonrpc":"2.0","id":8,"result":{"content":[],"structuredContent":{"v":${value}}}}`;
  const CALL = { jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "echo", arguments: { message: "hi" } } };

  it("answers a JSON body nested 5,000 levels deep with 502 and a log line, not a 500", async () => {
    const answer = await exchange(reply("application/json", resultWith(deep(5_000))), CALL);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toMatchObject({ id: 8, error: { code: -32003 } });
    expect(answer.line).toMatchObject({ status: 502, reason: "backend answered with JSON nested more than 128 levels deep" });
  });

  it("drops an SSE event nested that deep, and tells the client its request went unanswered", async () => {
    const answer = await exchange(reply("text/event-stream", sse(resultWith(deep(5_000)))), CALL);
    expect(answer.status).toBe(200);
    expect(sseMessages(answer.body)).toEqual([{ jsonrpc: "2.0", id: 8, error: { code: -32003, message: "Bad gateway: the MCP server's stream broke off before it answered" } }]);
    expect(answer.line).toMatchObject({ status: 200, reason: expect.stringContaining("dropped") });
  });

  it("passes an answer nested 100 levels deep", async () => {
    const answer = await exchange(reply("application/json", resultWith(deep(100))), CALL);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(JSON.parse(resultWith(deep(100))));
  });
});

describe("messages larger than MAX_BACKEND_MESSAGE_BYTES", () => {
  const bigList = toolsList(Array.from({ length: 2_000 }, (_, i) => `tool_${i}`));

  it("answers a JSON body over the limit with 502", async () => {
    expect(bigList.length).toBeGreaterThan(MAX_MESSAGE_BYTES);
    const answer = await exchange(reply("application/json", bigList));
    expect(answer.status).toBe(502);
    expect(answer.line).toMatchObject({ status: 502, reason: `backend answered with a body larger than ${MAX_MESSAGE_BYTES} bytes (MAX_BACKEND_MESSAGE_BYTES)` });
  });

  it("ends a stream whose event grows over the limit with an error for the pending request, after the events before it", async () => {
    const progress = JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } });
    const answer = await exchange(reply("text/event-stream", `${sse(progress)}${sse(bigList)}`));
    expect(answer.status).toBe(200);
    expect(sseMessages(answer.body)).toEqual([
      JSON.parse(progress),
      { jsonrpc: "2.0", id: 7, error: { code: -32003, message: `Bad gateway: the MCP server sent a message larger than ${MAX_MESSAGE_BYTES} bytes` } },
    ]);
    expect(answer.line).toMatchObject({ status: 200, reason: expect.stringContaining("MAX_BACKEND_MESSAGE_BYTES") });
  });
});
