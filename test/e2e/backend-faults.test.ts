/**
 * A backend that misbehaves at each stage of an answer, through the real gateway over HTTP: HTML instead of JSON,
 * a mislabelled or failed list, SSE streams that carry junk or break off, connections reset or closed, answers that
 * come after the gateway's timeout.
 *
 * Each fault must have a defined outcome (a status, a JSON-RPC error body, an access-log line saying why), never a
 * crash, and never fail open: a denied call stays refused before the backend is asked, whatever the fault, and a
 * list never comes back unfiltered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bearer, sleep, useFaultWorld } from "../support/fault-fixtures.js";
import { POLICIES, gatewaySettings, postRaw, type TestGateway } from "../support/gateway.js";
import { messageOf, sseEventsIn } from "../support/raw-mcp.js";

const world = useFaultWorld();
const { gatewayWith } = world;

describe("a backend that misbehaves", () => {
  interface RpcMessage {
    id?: string | number;
    method?: string;
  }
  type Misbehaviour = (message: RpcMessage, req: IncomingMessage, res: ServerResponse) => void;

  const TIMEOUT_MS = 400;
  const LATE_MS = 1_000;
  const listOf = (id: RpcMessage["id"]) =>
    JSON.stringify({ jsonrpc: "2.0", id, result: { tools: [{ name: "echo", inputSchema: { type: "object" } }, { name: "delete_everything", inputSchema: { type: "object" } }] } });
  const sse = (data: string) => `event: message\ndata: ${data}\n\n`;
  const HTML_500 = "<html><body><h1>500 Internal Server Error</h1><pre>Traceback (most recent call last):\n  File \"app.py\", line 12</pre></body></html>";

  const FAULTS = {
    "answers 200 with an HTML page": (_, __, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><html><body>Welcome to nginx!</body></html>");
    },
    "answers 500 with an HTML page": (_, __, res) => {
      res.writeHead(500, { "content-type": "text/html" }).end(HTML_500);
    },
    "sends a list without a content type": (message, _, res) => {
      res.writeHead(200).end(listOf(message.id));
    },
    "sends a list as text/plain": (message, _, res) => {
      res.writeHead(200, { "content-type": "text/plain" }).end(listOf(message.id));
    },
    "sends a list with status 500": (message, _, res) => {
      res.writeHead(500, { "content-type": "application/json" }).end(listOf(message.id));
    },
    "sends an SSE event whose data is not JSON, then the list": (message, _, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" }).end(`${sse("<html>Bad Gateway</html>")}${sse(listOf(message.id))}`);
    },
    "ends its SSE stream in the middle of the list event": (message, _, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" }).end(sse(listOf(message.id)).slice(0, 90));
    },
    "resets the connection in the middle of the list event": (message, req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sse(listOf(message.id)).slice(0, 90));
      setTimeout(() => req.socket.resetAndDestroy(), 50);
    },
    "resets the connection before answering": (_, req) => {
      req.socket.resetAndDestroy();
    },
    "closes the connection before answering": (_, req) => {
      req.socket.destroy();
    },
    "answers after the gateway's timeout": (message, _, res) => {
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(200, { "content-type": "application/json" }).end(listOf(message.id));
      }, LATE_MS);
    },
  } satisfies Record<string, Misbehaviour>;
  type FaultName = keyof typeof FAULTS;

  let server: Server;
  let gateway: TestGateway;
  let fault: FaultName | undefined;
  /** Every message that reached the backend ("tools/list"), and those whose connection closed before it answered. */
  const received: string[] = [];
  const abandoned: string[] = [];

  function answerInitialize(message: RpcMessage, res: ServerResponse): void {
    const result = { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "faulty", version: "1.0.0" } };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result }));
  }

  beforeAll(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (part: Buffer) => parts.push(part));
      req.on("end", () => {
        const message = JSON.parse(Buffer.concat(parts).toString() || "{}") as RpcMessage;
        const name = message.method ?? req.method ?? "?";
        received.push(name);
        res.on("close", () => {
          if (!res.writableEnded) abandoned.push(name);
        });
        if (message.method === "initialize") answerInitialize(message, res);
        else if (message.id === undefined) res.writeHead(202).end();
        else if (fault) FAULTS[fault](message, req, res);
        else if (message.method === "tools/list") res.writeHead(200, { "content-type": "application/json" }).end(listOf(message.id));
        else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { content: [] } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
    gateway = await gatewayWith(gatewaySettings(world.idp, url, { POLICY_FILE: POLICIES.walkthrough, BACKEND_TIMEOUT_MS: String(TIMEOUT_MS) }));
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });
  afterEach(() => {
    fault = undefined;
  });

  interface Exchange {
    status: number;
    contentType: string | null;
    text: string;
    /** The access-log line of this request (exactly one is written). */
    line: Record<string, unknown>;
    /** What reached the backend meanwhile. */
    reached: string[];
  }

  async function send(token: string, message: object): Promise<Exchange> {
    const receivedBefore = received.length;
    const loggedBefore = gateway.logger.requests().length;
    const response = await postRaw(gateway.url, message, bearer(token));
    const text = await response.text();
    await expect.poll(() => gateway.logger.requests().length).toBe(loggedBefore + 1);
    const line = gateway.logger.requests()[loggedBefore] as Record<string, unknown>;
    return { status: response.status, contentType: response.headers.get("content-type"), text, line, reached: received.slice(receivedBefore) };
  }

  const LIST = { jsonrpc: "2.0", id: 7, method: "tools/list" };
  const CALL_ECHO = { jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "echo", arguments: { message: "hi" } } };

  /** The SSE events of a body, each as its message (undefined for an event without data, which none should be). */
  const events = (text: string) => sseEventsIn(text).map(messageOf);

  it("refuses a 200 HTML answer to tools/list with 502: a successful MCP answer is JSON or SSE, anything else cannot be filtered", async () => {
    fault = "answers 200 with an HTML page";
    const exchange = await send(world.jsmith, LIST);
    expect(exchange.status).toBe(502);
    expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32003, message: "Bad gateway: the MCP server could not be reached" } });
    expect(exchange.line).toMatchObject({ status: 502, mcpMethod: "tools/list", subject: "jsmith", reason: "backend answered with a text/html body that is not JSON" });
    expect(exchange.reached).toEqual(["tools/list"]);
  });

  // A client may read a mislabelled body all the same, so the label does not decide whether a list is filtered.
  it.each(["sends a list without a content type", "sends a list as text/plain"] as const)(
    "filters the list when the backend %s",
    async (name) => {
      fault = name;
      const exchange = await send(world.jsmith, LIST);
      expect(exchange.status).toBe(200);
      expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 7, result: { tools: [] } });
      expect(exchange.text).not.toContain("delete_everything");
      expect(exchange.line).toMatchObject({ status: 200, decision: "filtered", listItemsRemoved: 2 });
    },
  );

  it("still filters a list that comes with status 500, and passes the status on", async () => {
    fault = "sends a list with status 500";
    const exchange = await send(world.jsmith, LIST);
    expect(exchange.status).toBe(500);
    expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 7, result: { tools: [] } });
    expect(exchange.line).toMatchObject({ status: 500, decision: "filtered", listItemsRemoved: 2 });
  });

  // The backend's own HTTP errors are passed on (status, content type, body): the gateway's "no internals" promise
  // covers its own errors; what a backend puts in its error pages is the backend's. The log line has no reason.
  it("passes a 500 HTML answer on as it came, status included, and logs it as an error", async () => {
    fault = "answers 500 with an HTML page";
    const exchange = await send(world.boss, CALL_ECHO);
    expect([exchange.status, exchange.contentType, exchange.text]).toEqual([500, "text/html", HTML_500]);
    expect(exchange.reached).toEqual(["tools/call"]);
    const logged = gateway.logger.lines.filter((l) => "status" in l.fields).at(-1);
    expect(logged).toMatchObject({ level: "error", message: "request", fields: { status: 500, tool: "echo", subject: "pointy-haired-boss", decision: "allowed" } });
  });

  it("drops an SSE event whose data is not JSON, says so in the log, and still filters the list after it", async () => {
    fault = "sends an SSE event whose data is not JSON, then the list";
    const exchange = await send(world.jsmith, LIST);
    expect([exchange.status, exchange.contentType]).toEqual([200, "text/event-stream"]);
    expect(events(exchange.text)).toEqual([{ jsonrpc: "2.0", id: 7, result: { tools: [] } }]);
    expect(exchange.text).not.toContain("Bad Gateway");
    expect(exchange.line).toMatchObject({
      status: 200,
      decision: "filtered",
      listItemsRemoved: 2,
      reason: "backend sent an SSE event whose data is not JSON; it was dropped",
    });
  });

  // The cut-off event cannot be read, so it is dropped: nothing of the list leaks. The stream then ends without an
  // answer; since the gateway dropped an event (the answer, maybe), it tells the client, as for a stream that breaks.
  it("drops a list event cut off by the end of the stream, and tells the client its request went unanswered", async () => {
    fault = "ends its SSE stream in the middle of the list event";
    const exchange = await send(world.jsmith, LIST);
    expect([exchange.status, exchange.contentType]).toEqual([200, "text/event-stream"]);
    expect(exchange.text).not.toContain("delete_everything");
    expect(events(exchange.text)).toEqual([
      { jsonrpc: "2.0", id: 7, error: { code: -32003, message: "Bad gateway: the MCP server's stream broke off before it answered" } },
    ]);
    expect(exchange.line).toMatchObject({ status: 200, reason: "backend sent an SSE event whose data is not JSON; it was dropped" });
  });

  it("ends a stream reset mid-event (TCP RST) with a JSON-RPC error for the request; the partial list is never passed on", async () => {
    fault = "resets the connection in the middle of the list event";
    const exchange = await send(world.jsmith, LIST);
    expect([exchange.status, exchange.contentType]).toEqual([200, "text/event-stream"]);
    expect(exchange.text).not.toContain("delete_everything");
    expect(events(exchange.text)).toEqual([
      { jsonrpc: "2.0", id: 7, error: { code: -32003, message: "Bad gateway: the MCP server's stream broke off before it answered" } },
    ]);
    expect(exchange.line).toMatchObject({ status: 200, reason: expect.stringMatching(/^backend stream failed: /) });
  });

  it.each(["resets the connection before answering", "closes the connection before answering"] as const)(
    "answers 502 with a JSON-RPC error when the backend %s",
    async (name) => {
      fault = name;
      const exchange = await send(world.jsmith, LIST);
      expect(exchange.status).toBe(502);
      expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32003, message: "Bad gateway: the MCP server could not be reached" } });
      expect(exchange.line).toMatchObject({ status: 502, reason: expect.stringMatching(/^backend unreachable: (ECONNRESET|UND_ERR_SOCKET)$/) });
      expect(exchange.reached).toEqual(["tools/list"]);
    },
  );

  it("answers 504 when the backend answers after BACKEND_TIMEOUT_MS, gives up the connection, and lets the late answer go nowhere", async () => {
    fault = "answers after the gateway's timeout";
    const abandonedBefore = abandoned.length;
    const call = await send(world.boss, CALL_ECHO);
    expect(call.status).toBe(504);
    expect(JSON.parse(call.text)).toEqual({ jsonrpc: "2.0", id: 8, error: { code: -32004, message: "Gateway timeout: the MCP server did not answer in time" } });
    expect(call.line).toMatchObject({ status: 504, reason: `backend did not answer within ${TIMEOUT_MS} ms` });
    // The call was forwarded (the backend may well have run it): a timeout says nothing about that.
    expect(call.reached).toEqual(["tools/call"]);

    const list = await send(world.jsmith, LIST);
    expect(list.status).toBe(504);
    expect(list.text).not.toContain("delete_everything");
    await expect.poll(() => abandoned.slice(abandonedBefore)).toEqual(["tools/call", "tools/list"]);

    // After the backend's late answers would have come: no further log line, and the gateway is fine.
    const logged = gateway.logger.requests().length;
    await sleep(LATE_MS);
    expect(gateway.logger.requests()).toHaveLength(logged);
    fault = undefined;
    expect((await send(world.boss, CALL_ECHO)).status).toBe(200);
  });

  it.each(Object.keys(FAULTS) as FaultName[])("while the backend %s, a denied call is still refused before it reaches the backend", async (name) => {
    fault = name;
    const exchange = await send(world.jsmith, CALL_ECHO);
    expect(exchange.status).toBe(200);
    expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 8, error: { code: -32602, message: "Unknown tool: echo" } });
    expect(exchange.line).toMatchObject({ status: 200, decision: "denied", tool: "echo", reason: expect.stringMatching(/^tool "echo" not allowed/) });
    expect(exchange.reached).toEqual([]);
  });

  it("serves normally after all of it: no fault left behind", async () => {
    const list = await send(world.boss, LIST);
    expect(list.status).toBe(200);
    expect(JSON.parse(list.text)).toMatchObject({ id: 7, result: { tools: [{ name: "echo" }] } });
    expect(JSON.parse(list.text).result.tools).toHaveLength(1);
    expect((await send(world.boss, CALL_ECHO)).status).toBe(200);
  });
});
