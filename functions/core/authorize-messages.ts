/**
 * Judges every message of a POST body before anything is forwarded. A body passes only when every message in it
 * passes; otherwise nothing of it reaches the backend and the client gets JSON-RPC errors instead.
 */
import type { AccessLog } from "../http/access-log.js";
import { jsonResponse } from "../http/error-response.js";
import { isDisguisedGovernedMethod, referencedItem, unknownItemMessage } from "../mcp/guarded-methods.js";
import { RpcCode, errorResponse, isRequest, type JsonRpcBody, type JsonRpcMessage } from "../mcp/jsonrpc.js";
import type { Judge } from "./judge.js";

export type BodyVerdict =
  | { allowed: true }
  /** `responses`: what the client is answered with (one per message that expected an answer, or one with id null). */
  | { allowed: false; responses: JsonRpcMessage[] };

interface MessageRefusal {
  code: number;
  message: string;
}

/** Methods a front door cannot carry, each with the reason; e.g. long-lived streams on a buffered one. */
export type NotCarried = ReadonlyMap<string, string>;

function judgeMessage(message: JsonRpcMessage, judge: Judge, log: AccessLog, notCarried: NotCarried): MessageRefusal | undefined {
  if (message.method !== undefined && isDisguisedGovernedMethod(message.method)) {
    log.entry.reason = `method ${JSON.stringify(message.method)} imitates a governed MCP method`;
    return { code: RpcCode.MethodNotFound, message: `Method not found: ${message.method}` };
  }
  if (message.method !== undefined && notCarried.has(message.method)) {
    log.entry.reason = `${message.method} is not carried by this front door: ${notCarried.get(message.method)}`;
    return { code: RpcCode.MethodNotFound, message: `Method not found: ${message.method} is not available on this endpoint` };
  }
  const reference = referencedItem(message);
  if ("none" in reference) return undefined;
  if ("malformed" in reference) {
    log.entry.reason = reference.malformed;
    return { code: RpcCode.InvalidParams, message: `Invalid params: ${reference.malformed}` };
  }
  if ("unsupported" in reference) {
    log.entry.reason = `${message.method}: ${reference.unsupported}`;
    return message.method === "tools/call"
      ? { code: RpcCode.InvalidParams, message: `Invalid params: task-augmented requests are not supported (${reference.unsupported})` }
      : { code: RpcCode.MethodNotFound, message: `Method not found: ${message.method}` };
  }
  for (const item of "item" in reference ? [reference.item] : reference.items) {
    log.entry[item.kind] = item.name;
    const decision = judge(item);
    if (decision.rule) log.entry.rule = decision.rule;
    if (decision.dryRun) log.recordDryRun(decision.dryRun);
    if (decision.allowed) continue;
    log.entry.reason = `${item.kind} ${JSON.stringify(item.name)} not allowed: ${decision.explanation}`;
    return { code: RpcCode.InvalidParams, message: unknownItemMessage(item) };
  }
  return undefined;
}

export function authorizeBody(body: JsonRpcBody, judge: Judge, log: AccessLog, notCarried: NotCarried = new Map()): BodyVerdict {
  const methods = body.messages.map((m) => m.method).filter((m): m is string => m !== undefined);
  if (methods.length > 0) log.entry.mcpMethod = methods.join(",");
  const refusals = body.messages.map((message) => judgeMessage(message, judge, log, notCarried));
  if (refusals.every((refusal) => refusal === undefined)) {
    log.entry.decision = "allowed";
    return { allowed: true };
  }
  log.entry.decision = "denied";
  const responses = body.messages.flatMap((message, index): JsonRpcMessage[] => {
    const refusal = refusals[index];
    if (!isRequest(message)) return [];
    if (refusal) return [errorResponse(message.id, refusal.code, refusal.message)];
    return [errorResponse(message.id, RpcCode.InvalidRequest, "Invalid Request: another message in this batch was refused, so none was processed")];
  });
  // A refused notification expects no answer, but a silent drop would hide the refusal: answer with id null.
  if (responses.length === 0) {
    const first = refusals.find((refusal) => refusal !== undefined) as MessageRefusal;
    responses.push(errorResponse(null, first.code, first.message));
  }
  return { allowed: false, responses };
}

/**
 * The client's answer to a refused body: one error, or a batch of them, with status 200, or 400 when none answers a
 * request (a refused notification). Writes the access log line.
 */
export function refusalResponse(verdict: BodyVerdict & { allowed: false }, body: JsonRpcBody, log: AccessLog): Response {
  const refusal = body.batch ? verdict.responses : verdict.responses[0];
  const status = verdict.responses.every((r) => r.id === null) ? 400 : 200;
  log.write(status);
  return jsonResponse(refusal, status);
}
