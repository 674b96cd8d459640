/**
 * A real v1-SDK MCP client that can be talked back to: sampling, elicitation and roots capabilities with request
 * handlers registered, and every notification it receives (progress through the request's `onprogress`, logging,
 * resource and tool-list notifications through handlers) recorded in order of arrival.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";

export const SAMPLING_MODEL = "stand-in-model";
export const ELICITED = { name: "Ada Lovelace" };
export const ROOTS = [{ uri: "file:///home/ada/project", name: "project" }];

/** Something the client received, in order of arrival. */
export type Received =
  | { kind: "progress"; progress: number; total?: number; message?: string }
  | { kind: "log"; level: string; data: unknown }
  | { kind: "notification"; method: string; params?: unknown };

export interface InteractiveClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  received: Received[];
  /** The server-to-client requests the client's handlers were asked, in order. */
  asked: { method: string; params: unknown }[];
  /** Transport errors the client reported (a broken stream, a failed reconnection). */
  errors: Error[];
  /** Calls a tool, recording its progress notifications into `received`. */
  call(name: string, args: Record<string, unknown>, options?: { timeout?: number }): Promise<CallToolResult>;
  close(): Promise<void>;
}

export async function connectInteractiveClient(url: string, token: string, options: { fetch?: FetchLike } = {}): Promise<InteractiveClient> {
  const client = new Client(
    { name: "interactive-test-client", version: "1.0.0" },
    { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
  );
  const received: Received[] = [];
  const asked: InteractiveClient["asked"] = [];
  const errors: Error[] = [];

  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    asked.push({ method: request.method, params: request.params });
    const last = request.params.messages.at(-1)?.content as { type: string; text?: string } | undefined;
    return { role: "assistant", content: { type: "text", text: `an answer to "${last?.text ?? ""}"` }, model: SAMPLING_MODEL, stopReason: "endTurn" };
  });
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    asked.push({ method: request.method, params: request.params });
    return { action: "accept", content: ELICITED };
  });
  client.setRequestHandler(ListRootsRequestSchema, async (request) => {
    asked.push({ method: request.method, params: request.params });
    return { roots: ROOTS };
  });
  client.setNotificationHandler(LoggingMessageNotificationSchema, async ({ params }) => {
    received.push({ kind: "log", level: params.level, data: params.data });
  });
  for (const schema of [ResourceUpdatedNotificationSchema, ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema]) {
    client.setNotificationHandler(schema, async (notification) => {
      received.push({ kind: "notification", method: notification.method, params: notification.params });
    });
  }

  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.onerror = (error) => void errors.push(error);
  await client.connect(transport);

  return {
    client,
    transport,
    received,
    asked,
    errors,
    call: async (name, args, callOptions = {}) =>
      (await client.callTool({ name, arguments: args }, undefined, {
        timeout: callOptions.timeout ?? 15_000,
        onprogress: ({ progress, total, message }) => void received.push({ kind: "progress", progress, total, message }),
      })) as CallToolResult,
    close: () => client.close(),
  };
}

/** What the client should have received for the messages the backend sent on a call's stream, in the same order. */
export function expectedReceived(sent: { method: string; params?: Record<string, unknown> }[]): Received[] {
  return sent.flatMap((message): Received[] => {
    const params = message.params ?? {};
    if (message.method === "notifications/progress") {
      return [{ kind: "progress", progress: params.progress as number, total: params.total as number, message: params.message as string }];
    }
    if (message.method === "notifications/message") return [{ kind: "log", level: params.level as string, data: params.data }];
    if (message.method.startsWith("notifications/")) return [{ kind: "notification", method: message.method, params: message.params }];
    return [];
  });
}

/** The text of a tool result's first content block. */
export function resultText(result: CallToolResult): string {
  const [first] = result.content as { type: string; text?: string }[];
  return first?.text ?? "";
}
