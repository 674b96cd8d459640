/**
 * The load test's system under test: the demo identity provider (in-memory key, JWKS on loopback) and the real
 * gateway on the local adapter, configured from environment-style settings as `npm start` configures it, with the
 * walkthrough's policy, on the main thread; the walkthrough's echo MCP server on a thread of its own.
 */
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { serveGateway, type LocalServer } from "../../functions/adapters/node-server.js";
import { DEMO_AUDIENCE, DEMO_ISSUER } from "../../functions/cli/demo-defaults.js";
import { loadConfigFromEnv } from "../../functions/config/gateway-config.js";
import { createGatewayFromConfig } from "../../functions/core/create-gateway-from-config.js";
import { createEchoServer } from "../../functions/demo/echo-server.js";
import { JWKS_PATH, generateSigningKey, mintToken, publicJwk, serveJwks } from "../../functions/demo/identity-provider.js";
import { hostMcpServer } from "../../functions/demo/mcp-host.js";
import type { GatewayLogger } from "../../functions/logging.js";
import { MAX_BODY_BYTES, PROTOCOL_VERSION, type Tokens } from "./load-generator.js";

const WALKTHROUGH_POLICY = fileURLToPath(new URL("../../policies/walkthrough.yaml", import.meta.url));

/** Discards log lines, counting access-log lines by status and reason (formatting them would dominate the profile). */
export class CountingLogger implements GatewayLogger {
  readonly byOutcome = new Map<string, number>();
  /** Access-log lines (those with an HTTP status). */
  lines = 0;
  /** Other lines (policy loads and the like), by message. */
  readonly other = new Map<string, number>();
  info(message: string, fields?: Record<string, unknown>): void {
    this.count(message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.count(message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.count(message, fields);
  }
  private count(message: string, fields: Record<string, unknown> = {}): void {
    if (typeof fields.status !== "number") {
      this.other.set(message, (this.other.get(message) ?? 0) + 1);
      return;
    }
    this.lines++;
    const outcome = typeof fields.reason === "string" ? fields.reason.replace(/: .*/, "") : String(fields.decision ?? "-");
    const key = `${fields.status} ${outcome}`;
    this.byOutcome.set(key, (this.byOutcome.get(key) ?? 0) + 1);
  }
}

/** The JSON-RPC messages the echo server received, by method (`tools/call` also by tool name). */
export type BackendCounts = Map<string, number>;

/**
 * The demo's echo server, hosted as `startEchoServer` hosts it, with a tap on each session's transport counting what
 * the MCP server was handed to execute. Nothing in the server itself is changed.
 */
async function startCountedEchoServer(counts: BackendCounts): Promise<LocalServer> {
  const count = (message: JSONRPCMessage) => {
    if (!("method" in message)) return;
    const params = "params" in message ? (message.params as { name?: unknown } | undefined) : undefined;
    const key = message.method === "tools/call" ? `tools/call ${String(params?.name)}` : message.method;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  return hostMcpServer(
    () => {
      const server = createEchoServer();
      const connect = server.connect.bind(server);
      server.connect = async (transport) => {
        await connect(transport);
        const deliver = transport.onmessage;
        transport.onmessage = (message, extra) => {
          count(message);
          deliver?.(message, extra);
        };
      };
      return server;
    },
    { port: 0 },
  );
}

/**
 * A worker thread of this process running the TypeScript module `moduleUrl` with `data` as its `workerData`. The
 * thread answers each message with one message (the first one it sends says it is ready); "close" ends it.
 */
export interface Thread<Reply> {
  ready: Reply;
  ask(message: unknown): Promise<Reply>;
  close(): Promise<void>;
}

export async function startThread<Reply>(moduleUrl: string, data: unknown): Promise<Thread<Reply>> {
  // A worker thread does not inherit the TypeScript loader: it registers tsx, then loads the module.
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl)}); });`;
  const worker = new Worker(bootstrap, { eval: true, workerData: data });
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      const fail = (error: unknown) => reject(error instanceof Error ? error : new Error(`worker thread ended (${String(error)})`));
      worker.once("message", (reply: Reply) => {
        worker.off("error", fail).off("exit", fail);
        resolve(reply);
      });
      worker.once("error", fail).once("exit", fail);
    });
  const ready = await next();
  return {
    ready,
    ask(message) {
      const reply = next();
      worker.postMessage(message);
      return reply;
    },
    async close() {
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      worker.postMessage("close");
      await exited;
    },
  };
}

type FromBackend = { url: string } | { counts: [string, number][] };
const BACKEND_ROLE = "load-test echo backend";

/**
 * The backend runs on a thread of its own, so the gateway's thread runs the gateway alone (and the identity
 * provider's JWKS, fetched once). It answers "counts" with what it received so far.
 */
if (!isMainThread && workerData === BACKEND_ROLE && parentPort) {
  const port = parentPort;
  const counts: BackendCounts = new Map();
  const echo = await startCountedEchoServer(counts);
  port.on("message", (message: string) => {
    if (message === "counts") port.postMessage({ counts: [...counts] } satisfies FromBackend);
    if (message === "close") void echo.close().then(() => port.close());
  });
  port.postMessage({ url: echo.url } satisfies FromBackend);
}

export interface LoadStack {
  /** The gateway's MCP endpoint. */
  url: string;
  tokens: Tokens;
  logger: CountingLogger;
  /** What the backend has received so far. */
  backendCounts(): Promise<BackendCounts>;
  /** Opens a backend session through the gateway as the token's caller; returns its session id. */
  openSession(token: string): Promise<string>;
  close(): Promise<void>;
}

export async function startLoadStack(): Promise<LoadStack> {
  const key = await generateSigningKey();
  const idp = await serveJwks(() => [publicJwk(key)]);
  const mint = (subject: string, roles: string[], expiresIn: number) =>
    mintToken(key, { issuer: DEMO_ISSUER, audience: DEMO_AUDIENCE, subject, claims: { roles }, expiresIn });
  const boss = await mint("pointy-haired-boss", ["admin"], 3600);
  const jsmith = await mint("jsmith", [], 3600);
  const expired = await mint("pointy-haired-boss", ["admin"], -60);
  const [header, , signature] = boss.split(".");
  const forgedClaims = { iss: DEMO_ISSUER, aud: DEMO_AUDIENCE, sub: "jsmith", roles: ["admin"], exp: Math.floor(Date.now() / 1000) + 3600 };
  const tampered = `${header}.${Buffer.from(JSON.stringify(forgedClaims)).toString("base64url")}.${signature}`;

  const echo = await startThread<FromBackend>(import.meta.url, BACKEND_ROLE);
  if (!("url" in echo.ready)) throw new Error("the echo backend did not start");
  const config = loadConfigFromEnv({
    MCP_BACKEND_URL: `${echo.ready.url}/mcp`,
    JWT_ISSUER: DEMO_ISSUER,
    JWT_AUDIENCE: DEMO_AUDIENCE,
    JWKS_URI: `${idp.url}${JWKS_PATH}`,
    POLICY_FILE: WALKTHROUGH_POLICY,
    // As `npm start`: the policy file is re-read every 2 s, so reloads happen under load too.
    POLICY_CACHE_SECONDS: "2",
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  });
  const logger = new CountingLogger();
  const gateway = createGatewayFromConfig(config, logger);
  await gateway.warmUp();
  const server = await serveGateway(gateway, { port: 0 });
  const url = `${server.url}${config.mcpPath}`;

  async function openSession(token: string): Promise<string> {
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` };
    const initialize = { jsonrpc: "2.0", id: 0, method: "initialize", params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "load-test", version: "1" } } };
    const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(initialize) });
    await response.text();
    const sessionId = response.headers.get("mcp-session-id");
    if (response.status !== 200 || !sessionId) throw new Error(`initialize through the gateway answered ${response.status} without a session`);
    const initialized = await fetch(url, {
      method: "POST",
      headers: { ...headers, "mcp-session-id": sessionId, "mcp-protocol-version": PROTOCOL_VERSION },
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    });
    await initialized.text();
    if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`);
    return sessionId;
  }

  return {
    url,
    tokens: { boss, jsmith, expired, tampered },
    logger,
    async backendCounts() {
      const reply = await echo.ask("counts");
      return new Map("counts" in reply ? reply.counts : []);
    },
    openSession,
    async close() {
      await server.close();
      await echo.close();
      await idp.close();
    },
  };
}
