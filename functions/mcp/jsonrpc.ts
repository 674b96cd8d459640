/** JSON-RPC 2.0 as MCP uses it: parsing a POST body into messages, and building error responses. */
import { ProtocolError } from "../errors.js";
import { MAX_JSON_DEPTH, readJson } from "./json-text.js";

export type JsonRpcId = string | number | null;

/** Any JSON-RPC message: a request (method + id), a notification (method, no id) or a response (id + result/error). */
export interface JsonRpcMessage {
  jsonrpc: "2.0";
  id?: JsonRpcId;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

export interface JsonRpcBody {
  /** True when the body was a JSON array (a batch, allowed by protocol version 2025-03-26). */
  batch: boolean;
  messages: JsonRpcMessage[];
  /**
   * Some object of the body names a key twice. The messages are read as JSON.parse reads them (the last one wins);
   * a parser that keeps the first would read another message, so such a body is forwarded re-serialised.
   */
  duplicateKeys: boolean;
}

export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isValidId(value: unknown): value is JsonRpcId {
  return typeof value === "string" || (typeof value === "number" && Number.isFinite(value)) || value === null;
}

function toMessage(value: unknown): JsonRpcMessage {
  if (!isObject(value) || value.jsonrpc !== "2.0") {
    throw new ProtocolError(400, RpcCode.InvalidRequest, "Invalid Request: not a JSON-RPC 2.0 message", "body is not a JSON-RPC 2.0 message");
  }
  if ("id" in value && !isValidId(value.id)) {
    throw new ProtocolError(400, RpcCode.InvalidRequest, "Invalid Request: id must be a string, number or null", "invalid JSON-RPC id");
  }
  const isCall = typeof value.method === "string";
  const isResponse = "id" in value && ("result" in value || "error" in value) && !("method" in value);
  if (!isCall && !isResponse) {
    throw new ProtocolError(400, RpcCode.InvalidRequest, "Invalid Request: a message needs a method, or a result or error", "message is neither request, notification nor response");
  }
  return value as unknown as JsonRpcMessage;
}

/**
 * Parses a POST body; throws ProtocolError (400) when it is not JSON (-32700), nests deeper than MAX_JSON_DEPTH or is
 * not JSON-RPC (-32600).
 */
export function parseJsonRpcBody(text: string): JsonRpcBody {
  const reading = readJson(text);
  if ("problem" in reading) {
    if (reading.problem === "not JSON") throw new ProtocolError(400, RpcCode.ParseError, "Parse error: the body is not valid JSON", "body is not valid JSON");
    throw new ProtocolError(400, RpcCode.InvalidRequest, `Invalid Request: the body nests more than ${MAX_JSON_DEPTH} levels deep`, `body nests more than ${MAX_JSON_DEPTH} levels deep`);
  }
  const { value, duplicateKeys } = reading;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new ProtocolError(400, RpcCode.InvalidRequest, "Invalid Request: empty batch", "empty JSON-RPC batch");
    return { batch: true, messages: value.map(toMessage), duplicateKeys };
  }
  return { batch: false, messages: [toMessage(value)], duplicateKeys };
}

/** A request expects a response; notifications and responses do not. */
export function isRequest(message: JsonRpcMessage): boolean {
  return typeof message.method === "string" && "id" in message && message.id !== undefined;
}

/** The id of the body's only request; undefined for batches, notifications and responses. */
export function singleRequestId(body: JsonRpcBody): JsonRpcId | undefined {
  const [first] = body.messages;
  return !body.batch && first && isRequest(first) ? (first.id as JsonRpcId) : undefined;
}

export function errorResponse(id: JsonRpcId | undefined, code: number, message: string): JsonRpcMessage {
  return { jsonrpc: "2.0", id: id ?? null, error: { code, message } };
}
