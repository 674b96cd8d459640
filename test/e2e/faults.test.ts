/**
 * Faults around the gateway, through the real gateway over HTTP: a backend that misbehaves at each stage of an
 * answer, signing keys that cannot be had when the gateway starts, SSM Parameter Store unreachable or throttling
 * (moto's server behind a relay that injects AWS's errors), and a policy file that breaks while the gateway runs.
 *
 * Each fault must have a defined outcome (a status, a JSON-RPC error body, an access-log line saying why), never a
 * crash, and never fail open: a denied call stays refused before the backend is asked, whatever the fault, and a
 * list never comes back unfiltered.
 */
import { randomUUID } from "node:crypto";
import { rm, writeFile, mkdtemp } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { DeleteParametersCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { serveFetch, type LocalServer } from "../../functions/adapters/node-server.js";
import { JWKS_PATH, publicJwk } from "../../functions/demo/identity-provider.js";
import { startBackend, type TestBackend } from "../support/backend.js";
import { startCountingProxy, type CountingProxy } from "../support/counting-proxy.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { INITIALIZE, POLICIES, connectClient, gatewaySettings, postRaw, startGateway, type TestGateway } from "../support/gateway.js";
import { startIdentityProvider, type TestIdentityProvider } from "../support/identity-provider.js";
import { providerPaths, startOidcProvider } from "../support/oidc-provider.js";
import { freePort } from "../support/ports.js";

/** The walkthrough's policy: echo for the admin role, nothing else for anyone. */
const WALKTHROUGH = `rules:\n- 'mcp.tool.name == "echo" && "admin" in jwt.roles'\n`;
const UNAVAILABLE_POLICY = { code: -32002, message: "Service unavailable: no authorization policy is loaded" };
const UNAVAILABLE_KEYS = { code: -32002, message: "Service unavailable: the identity provider's signing keys could not be fetched" };

let idp: TestIdentityProvider;
/** No roles: may not use echo. */
let jsmith: string;
/** The admin role: may use echo. */
let boss: string;
const closers: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  idp = await startIdentityProvider();
  jsmith = await idp.token({ subject: "jsmith" });
  boss = await idp.token({ subject: "pointy-haired-boss", claims: { roles: ["admin"] } });
});
afterAll(async () => {
  for (const closer of closers.reverse()) await closer.close();
  await idp?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function gatewayWith(env: Record<string, string>): Promise<TestGateway> {
  const gateway = await startGateway(env);
  closers.push(gateway);
  return gateway;
}

/** The tools a client is shown, or the error it gets. */
async function toolsSeen(client: Client): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name);
}

/** Calls echo; resolves to "ran" or to the JSON-RPC error the client got. */
async function callEcho(client: Client): Promise<string> {
  try {
    await client.callTool({ name: "echo", arguments: { message: "hi" } });
    return "ran";
  } catch (err) {
    return (err as Error).message;
  }
}
const REFUSED_ECHO = "MCP error -32602: Unknown tool: echo";

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
    gateway = await gatewayWith(gatewaySettings(idp, url, { POLICY_FILE: POLICIES.walkthrough, BACKEND_TIMEOUT_MS: String(TIMEOUT_MS) }));
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

  /** The SSE events of a body, each as its parsed data. */
  function events(text: string): unknown[] {
    return text
      .split("\n\n")
      .filter((event) => event.trim() !== "")
      .map((event) => JSON.parse(event.split("\n").find((line) => line.startsWith("data: "))?.slice(6) ?? "null"));
  }

  it("refuses a 200 HTML answer to tools/list with 502: a successful MCP answer is JSON or SSE, anything else cannot be filtered", async () => {
    fault = "answers 200 with an HTML page";
    const exchange = await send(jsmith, LIST);
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
      const exchange = await send(jsmith, LIST);
      expect(exchange.status).toBe(200);
      expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 7, result: { tools: [] } });
      expect(exchange.text).not.toContain("delete_everything");
      expect(exchange.line).toMatchObject({ status: 200, decision: "filtered", listItemsRemoved: 2 });
    },
  );

  it("still filters a list that comes with status 500, and passes the status on", async () => {
    fault = "sends a list with status 500";
    const exchange = await send(jsmith, LIST);
    expect(exchange.status).toBe(500);
    expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 7, result: { tools: [] } });
    expect(exchange.line).toMatchObject({ status: 500, decision: "filtered", listItemsRemoved: 2 });
  });

  // The backend's own HTTP errors are passed on (status, content type, body): the gateway's "no internals" promise
  // covers its own errors; what a backend puts in its error pages is the backend's. The log line has no reason.
  it("passes a 500 HTML answer on as it came, status included, and logs it as an error", async () => {
    fault = "answers 500 with an HTML page";
    const exchange = await send(boss, CALL_ECHO);
    expect([exchange.status, exchange.contentType, exchange.text]).toEqual([500, "text/html", HTML_500]);
    expect(exchange.reached).toEqual(["tools/call"]);
    const logged = gateway.logger.lines.filter((l) => "status" in l.fields).at(-1);
    expect(logged).toMatchObject({ level: "error", message: "request", fields: { status: 500, tool: "echo", subject: "pointy-haired-boss", decision: "allowed" } });
  });

  it("drops an SSE event whose data is not JSON, says so in the log, and still filters the list after it", async () => {
    fault = "sends an SSE event whose data is not JSON, then the list";
    const exchange = await send(jsmith, LIST);
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
    const exchange = await send(jsmith, LIST);
    expect([exchange.status, exchange.contentType]).toEqual([200, "text/event-stream"]);
    expect(exchange.text).not.toContain("delete_everything");
    expect(events(exchange.text)).toEqual([
      { jsonrpc: "2.0", id: 7, error: { code: -32003, message: "Bad gateway: the MCP server's stream broke off before it answered" } },
    ]);
    expect(exchange.line).toMatchObject({ status: 200, reason: "backend sent an SSE event whose data is not JSON; it was dropped" });
  });

  it("ends a stream reset mid-event (TCP RST) with a JSON-RPC error for the request; the partial list is never passed on", async () => {
    fault = "resets the connection in the middle of the list event";
    const exchange = await send(jsmith, LIST);
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
      const exchange = await send(jsmith, LIST);
      expect(exchange.status).toBe(502);
      expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32003, message: "Bad gateway: the MCP server could not be reached" } });
      expect(exchange.line).toMatchObject({ status: 502, reason: expect.stringMatching(/^backend unreachable: (ECONNRESET|UND_ERR_SOCKET)$/) });
      expect(exchange.reached).toEqual(["tools/list"]);
    },
  );

  it("answers 504 when the backend answers after BACKEND_TIMEOUT_MS, gives up the connection, and lets the late answer go nowhere", async () => {
    fault = "answers after the gateway's timeout";
    const abandonedBefore = abandoned.length;
    const call = await send(boss, CALL_ECHO);
    expect(call.status).toBe(504);
    expect(JSON.parse(call.text)).toEqual({ jsonrpc: "2.0", id: 8, error: { code: -32004, message: "Gateway timeout: the MCP server did not answer in time" } });
    expect(call.line).toMatchObject({ status: 504, reason: `backend did not answer within ${TIMEOUT_MS} ms` });
    // The call was forwarded (the backend may well have run it): a timeout says nothing about that.
    expect(call.reached).toEqual(["tools/call"]);

    const list = await send(jsmith, LIST);
    expect(list.status).toBe(504);
    expect(list.text).not.toContain("delete_everything");
    await expect.poll(() => abandoned.slice(abandonedBefore)).toEqual(["tools/call", "tools/list"]);

    // After the backend's late answers would have come: no further log line, and the gateway is fine.
    const logged = gateway.logger.requests().length;
    await sleep(LATE_MS);
    expect(gateway.logger.requests()).toHaveLength(logged);
    fault = undefined;
    expect((await send(boss, CALL_ECHO)).status).toBe(200);
  });

  it.each(Object.keys(FAULTS) as FaultName[])("while the backend %s, a denied call is still refused before it reaches the backend", async (name) => {
    fault = name;
    const exchange = await send(jsmith, CALL_ECHO);
    expect(exchange.status).toBe(200);
    expect(JSON.parse(exchange.text)).toEqual({ jsonrpc: "2.0", id: 8, error: { code: -32602, message: "Unknown tool: echo" } });
    expect(exchange.line).toMatchObject({ status: 200, decision: "denied", tool: "echo", reason: expect.stringMatching(/^tool "echo" not allowed/) });
    expect(exchange.reached).toEqual([]);
  });

  it("serves normally after all of it: no fault left behind", async () => {
    const list = await send(boss, LIST);
    expect(list.status).toBe(200);
    expect(JSON.parse(list.text)).toMatchObject({ id: 7, result: { tools: [{ name: "echo" }] } });
    expect(JSON.parse(list.text).result.tools).toHaveLength(1);
    expect((await send(boss, CALL_ECHO)).status).toBe(200);
  });
});

describe("signing keys unavailable when the gateway starts (warm-up failed)", () => {
  let backend: TestBackend;
  let upstream: CountingProxy;
  beforeAll(async () => {
    backend = await startBackend();
    upstream = await startCountingProxy(backend.url);
    closers.push(backend, upstream);
  });

  async function expectKeysUnavailable(gateway: TestGateway, reason: RegExp): Promise<void> {
    const relayedBefore = upstream.requests.length;
    const response = await postRaw(gateway.url, INITIALIZE, bearer(boss));
    expect(response.status).toBe(503);
    expect(response.headers.get("www-authenticate")).toBeNull();
    expect(response.headers.get("retry-after")).toBe("5");
    expect(await response.json()).toEqual({ jsonrpc: "2.0", id: null, error: UNAVAILABLE_KEYS });
    expect(gateway.logger.last()).toMatchObject({ status: 503, decision: "denied" });
    expect(gateway.logger.last().reason).toMatch(reason);
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);
  }

  // The JWKS endpoint answers, but not with keys: a maintenance page, an error status. Either way no token could be
  // judged, so 503 (retry), never a 401 telling the caller its token is bad.
  it.each([
    ["an HTML page with status 200", () => new Response("<html>maintenance</html>", { headers: { "content-type": "text/html" } }), /^JWKS unavailable: JWKS could not be parsed as JSON/],
    ["status 500", () => new Response("oops", { status: 500 }), /^JWKS unavailable: .*Status code is 500, expected 200/],
    ["a JSON document without keys", () => Response.json({ error: "not here" }), /^JWKS unavailable: JWKS does not include keys$/],
  ] as const)("JWKS_URI answering %s: 503 until it serves the keys, then the token verifies", async (_, broken, reason) => {
    let healthy = false;
    const jwks: LocalServer = await serveFetch(async () => (healthy ? Response.json({ keys: [publicJwk(idp.key)] }) : broken()), { port: 0 });
    closers.push(jwks);
    const gateway = await gatewayWith(gatewaySettings({ jwksUri: `${jwks.url}${JWKS_PATH}` }, upstream.url, { POLICY_FILE: POLICIES.walkthrough }));
    await expectKeysUnavailable(gateway, reason);
    await expectKeysUnavailable(gateway, reason);
    healthy = true;
    const response = await postRaw(gateway.url, INITIALIZE, bearer(boss));
    expect(response.status).toBe(200);
    expect(gateway.logger.last()).toMatchObject({ status: 200, subject: "pointy-haired-boss" });
  });

  it("the issuer down when the gateway starts (keys found by OIDC discovery): 503 until it is up, then its tokens verify", async () => {
    const first = await startOidcProvider({ issuerPath: "/realms/late" });
    const { port, keys, issuer } = first;
    const token = await first.token({ roles: ["admin"] }, { subject: "early-bird" });
    await first.close();

    const gateway = await gatewayWith({ MCP_BACKEND_URL: upstream.url, POLICY_FILE: POLICIES.walkthrough, JWT_ISSUER: issuer, JWT_AUDIENCE: "mcp-gateway" });
    const reason = new RegExp(`^JWKS unavailable: Failed to fetch ${issuer}/\\.well-known/openid-configuration: fetch failed$`);
    await expectKeysUnavailable(gateway, reason);

    const back = await startOidcProvider({ issuerPath: "/realms/late", port, keys });
    closers.push(back);
    const response = await postRaw(gateway.url, INITIALIZE, bearer(token));
    expect(response.status).toBe(200);
    expect(gateway.logger.last()).toMatchObject({ status: 200, subject: "early-bird" });
    const { discovery, jwks } = providerPaths(back);
    expect([back.requests(discovery), back.requests(jwks)]).toEqual([1, 1]);
  });
});

describe("SSM Parameter Store faults", () => {
  /** moto's endpoint, as the global setup published it; the test's own client always talks to it directly. */
  const MOTO = process.env.AWS_ENDPOINT_URL_SSM as string;
  const admin = new SSMClient({ endpoint: MOTO });
  const CACHE_SECONDS = 1;
  const afterCacheExpiry = () => sleep(CACHE_SECONDS * 1000 + 200);
  /** The SDK's default for every AWS call: three attempts, throttling errors retried with backoff. */
  const ATTEMPTS = 3;
  let backend: TestBackend;
  let upstream: CountingProxy;
  const parameters: string[] = [];

  async function put(name: string, value: string): Promise<void> {
    await admin.send(new PutParameterCommand({ Name: name, Value: value, Type: "String", Overwrite: true }));
    parameters.push(name);
  }

  /** Points the gateway's SSM client (it reads the SDK's standard AWS_ENDPOINT_URL_SSM) at `endpoint` for a while. */
  function useSsmEndpoint(endpoint: () => string): void {
    beforeAll(() => {
      process.env.AWS_ENDPOINT_URL_SSM = endpoint();
    });
    afterAll(() => {
      process.env.AWS_ENDPOINT_URL_SSM = MOTO;
    });
  }

  function gatewayOn(path: string): Promise<TestGateway> {
    return gatewayWith(gatewaySettings(idp, upstream.url, { POLICY_SSM_PATH: path, POLICY_CACHE_SECONDS: String(CACHE_SECONDS) }));
  }

  async function expectNoPolicy(gateway: TestGateway): Promise<void> {
    const relayedBefore = upstream.requests.length;
    for (const message of [INITIALIZE, { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: { message: "hi" } } }]) {
      const response = await postRaw(gateway.url, message, bearer(boss));
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(await response.json()).toEqual({ jsonrpc: "2.0", id: message.id, error: UNAVAILABLE_POLICY });
      expect(gateway.logger.last()).toMatchObject({ status: 503, decision: "denied", reason: "no authorization policy is loaded (fail closed)" });
    }
    expect(upstream.requests.slice(relayedBefore)).toEqual([]);
  }

  beforeAll(async () => {
    expect(MOTO).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    backend = await startBackend();
    upstream = await startCountingProxy(backend.url);
    closers.push(backend, upstream);
  });
  afterAll(async () => {
    if (parameters.length > 0) await admin.send(new DeleteParametersCommand({ Names: [...new Set(parameters)] }));
    process.env.AWS_ENDPOINT_URL_SSM = MOTO;
  });

  describe("SSM unreachable (AWS_ENDPOINT_URL_SSM on a port nothing listens on)", () => {
    let closedPort: number;
    beforeAll(async () => {
      closedPort = await freePort();
    });
    useSsmEndpoint(() => `http://127.0.0.1:${closedPort}`);

    it("refuses every MCP request with 503 and says why, with nothing sent to the backend", async () => {
      const gateway = await gatewayOn(`/mcp-sso-gateway-test/${randomUUID()}`);
      await expectNoPolicy(gateway);
      const failure = gateway.logger.lines.find((l) => l.message === "no policy could be loaded; every MCP request is refused");
      expect(failure).toMatchObject({ level: "error", fields: { error: expect.stringMatching(/ECONNREFUSED/) } });
      expect(backend.executed).toEqual([]);
    });
  });

  describe("SSM throttling (ThrottlingException from a relay in front of moto)", () => {
    let relay: FaultProxy;
    beforeAll(async () => {
      relay = await startFaultProxy(MOTO);
      closers.push(relay);
    });
    useSsmEndpoint(() => relay.url);
    afterEach(() => {
      relay.fault = () => undefined;
    });

    const throttled = () => relay.count("GetParametersByPath", "throttle");
    const reloadFailures = (gateway: TestGateway) => gateway.logger.lines.filter((l) => l.message === "policy reload failed; keeping the last good policy");

    it("keeps enforcing the policy it has while every read is throttled: denied stays denied, allowed stays allowed", async () => {
      const path = `/mcp-sso-gateway-test/${randomUUID()}`;
      await put(`${path}/walkthrough`, WALKTHROUGH);
      const relayedBefore = relay.count("GetParametersByPath", "relayed");
      const gateway = await gatewayOn(path);
      expect(relay.count("GetParametersByPath", "relayed")).toBe(relayedBefore + 1);
      const employee = await connectClient(gateway.url, jsmith);
      const manager = await connectClient(gateway.url, boss);
      closers.push(employee, manager);
      backend.executed.length = 0;

      const throttledBefore = throttled();
      relay.fault = (operation) => (operation === "GetParametersByPath" ? "throttle" : undefined);
      // A change made meanwhile cannot be read either: the policy in force stays the one loaded.
      await put(`${path}/everyone-echo`, "tools:\n  echo: ['*']\n");
      await afterCacheExpiry();

      expect(await toolsSeen(employee)).toEqual([]);
      expect(await callEcho(employee)).toBe(REFUSED_ECHO);
      expect(await toolsSeen(manager)).toEqual(["echo"]);
      expect(await callEcho(manager)).toBe("ran");
      await afterCacheExpiry();
      expect(await callEcho(employee)).toBe(REFUSED_ECHO);
      expect(backend.executed).toEqual([{ kind: "tool", name: "echo", arguments: { message: "hi" } }]);

      // Each reload was tried three times (the SDK retries throttling with backoff), then given up on.
      const failures = reloadFailures(gateway);
      expect(failures.length).toBeGreaterThanOrEqual(2);
      expect(throttled() - throttledBefore).toBe(failures.length * ATTEMPTS);
      for (const failure of failures) expect(failure).toMatchObject({ level: "error", fields: { error: "Rate exceeded" } });

      // Once reads succeed again, the change is picked up.
      relay.fault = () => undefined;
      await afterCacheExpiry();
      expect(await toolsSeen(employee)).toEqual(["echo"]);
    });

    it("refuses everything with 503 while it never loaded a policy, and loads it once reads succeed", async () => {
      const path = `/mcp-sso-gateway-test/${randomUUID()}`;
      await put(`${path}/walkthrough`, WALKTHROUGH);
      relay.fault = (operation) => (operation === "GetParametersByPath" ? "throttle" : undefined);
      const throttledBefore = throttled();
      const gateway = await gatewayOn(path);

      await expectNoPolicy(gateway);
      const failures = gateway.logger.lines.filter((l) => l.message === "no policy could be loaded; every MCP request is refused");
      expect(failures.length).toBeGreaterThanOrEqual(1);
      for (const failure of failures) expect(failure.fields.error).toBe("Rate exceeded");
      expect(throttled() - throttledBefore).toBe(failures.length * ATTEMPTS);

      relay.fault = () => undefined;
      await afterCacheExpiry();
      const response = await postRaw(gateway.url, INITIALIZE, bearer(boss));
      expect(response.status).toBe(200);
      expect(gateway.logger.lines.some((l) => l.message === "policy loaded")).toBe(true);
    });

    it("keeps the policy it has when SSM goes away mid-request (connections reset)", async () => {
      const path = `/mcp-sso-gateway-test/${randomUUID()}`;
      await put(`${path}/walkthrough`, WALKTHROUGH);
      const gateway = await gatewayOn(path);
      const employee = await connectClient(gateway.url, jsmith);
      const manager = await connectClient(gateway.url, boss);
      closers.push(employee, manager);
      const resetBefore = relay.count("GetParametersByPath", "reset");

      relay.fault = () => "reset";
      await afterCacheExpiry();
      expect(await callEcho(employee)).toBe(REFUSED_ECHO);
      expect(await toolsSeen(employee)).toEqual([]);
      expect(await callEcho(manager)).toBe("ran");
      const failures = reloadFailures(gateway);
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(relay.count("GetParametersByPath", "reset") - resetBefore).toBe(failures.length * ATTEMPTS);
    });
  });
});

describe("a policy file that breaks while the gateway runs (POLICY_FILE, re-read after POLICY_CACHE_SECONDS)", () => {
  it("keeps the last good policy while the file is invalid or missing, and takes a valid one again", async () => {
    const backend = await startBackend();
    closers.push(backend);
    const file = join(await mkdtemp(join(tmpdir(), "faults-policy-")), "policy.yaml");
    await writeFile(file, WALKTHROUGH);
    const gateway = await gatewayWith(gatewaySettings(idp, backend.url, { POLICY_FILE: file, POLICY_CACHE_SECONDS: "1" }));
    const employee = await connectClient(gateway.url, jsmith);
    const manager = await connectClient(gateway.url, boss);
    closers.push(employee, manager);

    // A grant for everyone, broken by a CEL rule that does not compile: the whole document is refused.
    await writeFile(file, "tools:\n  echo: ['*']\nrules:\n- 'mcp.tool.name =='\n");
    await sleep(1_200);
    expect(await callEcho(employee)).toBe(REFUSED_ECHO);
    expect(await toolsSeen(employee)).toEqual([]);
    expect(await callEcho(manager)).toBe("ran");

    await rm(file);
    await sleep(1_200);
    expect(await callEcho(employee)).toBe(REFUSED_ECHO);
    expect(await callEcho(manager)).toBe("ran");

    const failures = gateway.logger.lines.filter((l) => l.message === "policy reload failed; keeping the last good policy").map((l) => String(l.fields.error));
    expect(failures.some((error) => error.startsWith(`${file} rules[0]: `))).toBe(true);
    expect(failures.some((error) => error.startsWith("ENOENT"))).toBe(true);
    expect(failures.every((error) => error.startsWith(`${file} rules[0]: `) || error.startsWith("ENOENT"))).toBe(true);
    expect(backend.executed.map((e) => e.name)).toEqual(["echo", "echo"]);

    await writeFile(file, "tools:\n  echo: ['*']\n");
    await sleep(1_200);
    expect(await callEcho(employee)).toBe("ran");
  });
});
