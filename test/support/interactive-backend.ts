/**
 * A v1-SDK MCP backend that talks back to its client during tool calls: progress and logging notifications on the
 * call's stream, server-to-client requests (sampling, elicitation, roots) on the call's stream, and notifications on
 * the session's standalone GET stream, among them the `tools/list_changed` that follows a tool registered during the
 * session (`add_tool`). Stateful sessions (`StreamableHTTPServerTransport` over node:http), resumable through an event
 * store whose ids are numbered in order, a `retry:` interval in priming events.
 *
 * It records what it executed, every message it sent to the client (and on which stream), what came back from the
 * client (the tools' view, and the raw JSON-RPC responses POSTed to it), every HTTP request that reached it, and the
 * responses whose connection was closed before the backend had ended them.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  isInitializeRequest,
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { SequencedEventStore, type StoredEvent } from "./sequenced-event-store.js";

export type { StoredEvent };

/** The `retry:` interval (ms) the backend announces in its priming events (protocol 2025-11-25). */
export const RETRY_MS = 100;
export const INTERACTIVE_TOOLS = ["progress_steps", "log_levels", "ask_sampling", "ask_elicitation", "ask_roots", "notify_session", "add_tool"] as const;
/** Tools the backend has only once `add_tool` registered them: the policy grants the first, and not the second. */
export const LATE_TOOLS = { granted: "late_granted", withheld: "late_withheld" } as const;
/** The form the elicitation tool asks the client to fill in. */
export const ELICITATION_SCHEMA = {
  type: "object" as const,
  properties: { name: { type: "string" as const, description: "Your name" } },
  required: ["name"],
};

/** The role the test policy grants the interactive tools to. */
export const INTERACTIVE_ROLE = "employee";

/** Writes a native policy granting every interactive tool and LATE_TOOLS.granted to INTERACTIVE_ROLE (and nothing else). */
export function writeInteractivePolicy(): string {
  const file = join(mkdtempSync(join(tmpdir(), "interactive-policy-")), "policy.yaml");
  const granted = [...INTERACTIVE_TOOLS, LATE_TOOLS.granted];
  writeFileSync(file, `tools:\n${granted.map((tool) => `  ${tool}: [${INTERACTIVE_ROLE}]\n`).join("")}`);
  return file;
}

/** One message the backend sent to the client: during which tool, of what kind, on which stream. */
export interface Sent {
  tool: string;
  stream: "call" | "standalone";
  method: string;
  params?: Record<string, unknown>;
}

export interface ClientAnswer {
  tool: string;
  method: string;
  result?: unknown;
  error?: string;
}

export interface ReceivedRequest {
  httpMethod: string;
  /** JSON-RPC method(s) of a POST; "response" for a JSON-RPC response. */
  rpc?: string;
  lastEventId?: string;
  protocolVersion?: string;
}

export interface InteractiveBackend {
  url: string;
  executed: { name: string; arguments: unknown }[];
  sent: Sent[];
  /** What each tool got back for its server-to-client requests. */
  answers: ClientAnswer[];
  /** The JSON-RPC responses the client POSTed, as they arrived. */
  clientResponses: unknown[];
  requests: ReceivedRequest[];
  /** Requests whose response stream the client closed before the backend ended it ("POST tools/call", "GET"). */
  closedEarly: string[];
  /** Every event the event store issued an id for, in order (priming events hold `{}`). */
  events: StoredEvent[];
  /** Standalone GET streams currently open (headers sent, not yet closed). */
  openGetStreams(): number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value: string) => ({ content: [{ type: "text" as const, text: value }] });

export async function startInteractiveBackend(): Promise<InteractiveBackend> {
  const record: Omit<InteractiveBackend, "url" | "openGetStreams" | "close"> = {
    executed: [], sent: [], answers: [], clientResponses: [], requests: [], closedEarly: [], events: [],
  };
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  let openGets = 0;

  function createMcpServer(): McpServer {
    const server = new McpServer(
      { name: "interactive-backend", version: "1.0.0" },
      { capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } } },
    );
    type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;
    const notify = async (tool: string, extra: Extra, method: string, params: Record<string, unknown>) => {
      record.sent.push({ tool, stream: "call", method, params });
      await extra.sendNotification({ method, params } as ServerNotification);
    };
    /** Asks the client, on the call's stream, recording the question and the answer. */
    const ask = async <T>(tool: string, method: string, params: Record<string, unknown>, question: () => Promise<T>): Promise<T> => {
      record.sent.push({ tool, stream: "call", method, params });
      try {
        const result = await question();
        record.answers.push({ tool, method, result });
        return result;
      } catch (err) {
        record.answers.push({ tool, method, error: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    };

    server.registerTool(
      "progress_steps",
      { inputSchema: { steps: z.number(), intervalMs: z.number().optional(), log: z.boolean().optional(), breakAfter: z.number().optional() } },
      async (args, extra) => {
        record.executed.push({ name: "progress_steps", arguments: args });
        const progressToken = extra._meta?.progressToken;
        for (let step = 1; step <= args.steps; step++) {
          if (progressToken !== undefined) {
            await notify("progress_steps", extra, "notifications/progress", { progressToken, progress: step, total: args.steps, message: `step ${step}` });
          }
          if (args.log) await notify("progress_steps", extra, "notifications/message", { level: "info", logger: "steps", data: `after step ${step}` });
          // The server ends the call's stream here; the client resumes it with Last-Event-ID (protocol 2025-11-25).
          if (args.breakAfter === step) extra.closeSSEStream?.();
          if (args.intervalMs) await sleep(args.intervalMs);
        }
        return text(`done after ${args.steps} steps`);
      },
    );

    server.registerTool("log_levels", { inputSchema: { levels: z.array(z.string()) } }, async (args, extra) => {
      record.executed.push({ name: "log_levels", arguments: args });
      for (const level of args.levels as LoggingLevel[]) {
        await notify("log_levels", extra, "notifications/message", { level, logger: "levels", data: `a ${level} message` });
      }
      return text(`logged ${args.levels.length} messages`);
    });

    server.registerTool("ask_sampling", { inputSchema: { prompt: z.string(), timeoutMs: z.number().optional() } }, async (args, extra) => {
      record.executed.push({ name: "ask_sampling", arguments: args });
      await notify("ask_sampling", extra, "notifications/message", { level: "info", logger: "sampling", data: "asking the client to sample" });
      const params = { messages: [{ role: "user" as const, content: { type: "text" as const, text: args.prompt } }], maxTokens: 100 };
      const result = await ask("ask_sampling", "sampling/createMessage", params, () =>
        server.server.createMessage(params, { relatedRequestId: extra.requestId, timeout: args.timeoutMs ?? 10_000 }),
      );
      const content = result.content as { type: string; text?: string };
      return text(`the client sampled: ${content.text ?? content.type} (model ${result.model})`);
    });

    server.registerTool("ask_elicitation", { inputSchema: { message: z.string(), timeoutMs: z.number().optional() } }, async (args, extra) => {
      record.executed.push({ name: "ask_elicitation", arguments: args });
      await notify("ask_elicitation", extra, "notifications/message", { level: "info", logger: "elicitation", data: "asking the user" });
      const params = { mode: "form" as const, message: args.message, requestedSchema: ELICITATION_SCHEMA };
      const result = await ask("ask_elicitation", "elicitation/create", params, () =>
        server.server.elicitInput(params, { relatedRequestId: extra.requestId, timeout: args.timeoutMs ?? 10_000 }),
      );
      return text(`the user answered: ${JSON.stringify({ action: result.action, content: result.content })}`);
    });

    server.registerTool("ask_roots", { inputSchema: { timeoutMs: z.number().optional() } }, async (args, extra) => {
      record.executed.push({ name: "ask_roots", arguments: args });
      const result = await ask("ask_roots", "roots/list", {}, () =>
        server.server.listRoots(undefined, { relatedRequestId: extra.requestId, timeout: args.timeoutMs ?? 10_000 }),
      );
      return text(`roots: ${result.roots.map((root) => root.uri).join(", ")}`);
    });

    // Sent without a related request, so the SDK puts them on the session's standalone (GET) stream.
    server.registerTool("notify_session", { inputSchema: { uri: z.string() } }, async (args) => {
      record.executed.push({ name: "notify_session", arguments: args });
      record.sent.push({ tool: "notify_session", stream: "standalone", method: "notifications/resources/updated", params: { uri: args.uri } });
      await server.server.sendResourceUpdated({ uri: args.uri });
      record.sent.push({ tool: "notify_session", stream: "standalone", method: "notifications/resources/list_changed" });
      await server.server.sendResourceListChanged();
      return text("notified");
    });

    // Registering a tool on a connected server makes the SDK send notifications/tools/list_changed, unrelated to any
    // request: on the session's standalone (GET) stream.
    server.registerTool("add_tool", { inputSchema: { name: z.string() } }, async (args) => {
      record.executed.push({ name: "add_tool", arguments: args });
      record.sent.push({ tool: "add_tool", stream: "standalone", method: "notifications/tools/list_changed" });
      server.registerTool(args.name, { inputSchema: {} }, async (lateArgs) => {
        record.executed.push({ name: args.name, arguments: lateArgs });
        return text(`ran ${args.name}`);
      });
      return text(`added ${args.name}`);
    });
    return server;
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const raw = Buffer.concat(parts).toString();
    return raw ? (JSON.parse(raw) as unknown) : undefined;
  }

  function describe(req: IncomingMessage, body: unknown): ReceivedRequest {
    const header = (name: string) => (req.headers[name] as string | undefined) ?? undefined;
    const messages = (Array.isArray(body) ? body : body === undefined ? [] : [body]) as Record<string, unknown>[];
    const rpc = messages.map((m) => (typeof m.method === "string" ? m.method : "response")).join(",") || undefined;
    const entry: ReceivedRequest = { httpMethod: req.method ?? "?" };
    if (rpc) entry.rpc = rpc;
    if (header("last-event-id")) entry.lastEventId = header("last-event-id");
    if (header("mcp-protocol-version")) entry.protocolVersion = header("mcp-protocol-version");
    for (const m of messages) if (m.method === undefined) record.clientResponses.push(m);
    return entry;
  }

  function watch(res: ServerResponse, label: string, isGet: boolean): void {
    let counted = false;
    if (isGet) {
      const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
      res.writeHead = ((status: number, ...rest: unknown[]) => {
        if (status === 200 && !counted) (counted = true), openGets++;
        return writeHead(status, ...rest);
      }) as ServerResponse["writeHead"];
    }
    res.on("close", () => {
      if (counted) openGets--;
      if (!res.writableEnded) record.closedEarly.push(label);
    });
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = req.method === "POST" ? await readBody(req) : undefined;
    const entry = describe(req, body);
    record.requests.push(entry);
    watch(res, entry.rpc ? `${entry.httpMethod} ${entry.rpc}` : entry.httpMethod, req.method === "GET");
    const sessionId = req.headers["mcp-session-id"] as string | undefined;
    let transport = sessionId ? sessions.get(sessionId) : undefined;
    if (sessionId && !transport) {
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32001, message: "Session not found" } }));
      return;
    }
    if (!transport) {
      if (!isInitializeRequest(body)) {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "no session" } }));
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: new SequencedEventStore(record.events),
        retryInterval: RETRY_MS,
        onsessioninitialized: (id) => void sessions.set(id, created),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      await createMcpServer().connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  }

  const server = createServer((req, res) => {
    answer(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    ...record,
    openGetStreams: () => openGets,
    async close() {
      await Promise.all([...sessions.values()].map((transport) => transport.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
