/**
 * Which MCP methods touch which item, and how a refusal reads.
 *
 * A client message that uses a tool, prompt or resource names it here; every such message is judged by the policy.
 * List methods are not judged: their results are filtered instead (see list-filter.ts). Everything else passes.
 */
import type { ItemKind, PolicyItem } from "../policy/types.js";
import type { JsonRpcMessage } from "./jsonrpc.js";

/**
 * What a client message asks to use: an item (or several) to judge, nothing to judge, a malformed reference, or
 * something the gateway does not carry at all (both refused).
 */
export type ItemReference =
  | { item: PolicyItem }
  | { items: PolicyItem[] }
  | { none: true }
  | { malformed: string }
  | { unsupported: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringParam(params: unknown, key: string, kind: ItemKind, method: string, where = "params"): ItemReference {
  const value = isObject(params) ? params[key] : undefined;
  return typeof value === "string" ? { item: { kind, name: value } } : { malformed: `${method} needs ${where}.${key} as a string` };
}

/** A tool call names the tool and carries its arguments, judged by argument-aware rules (none given: {}). */
function toolCall(params: unknown, method: string): ItemReference {
  if (isObject(params) && params.task !== undefined) return { unsupported: TASKS_NOT_CARRIED };
  const reference = stringParam(params, "name", "tool", method);
  if (!("item" in reference)) return reference;
  const args = isObject(params) ? params.arguments : undefined;
  if (args !== undefined && !isObject(args)) return { malformed: `${method} needs params.arguments as an object` };
  return { item: { ...reference.item, arguments: args ?? {} } };
}

/**
 * Tasks (2025-11-25) are refused rather than carried: a task id outlives the request that created it, and the gateway
 * keeps no state to bind it to the caller and the tool it came from. Servers' `tasks` capability is hidden from
 * clients too (result-hints.ts), so a client that follows the protocol never asks.
 */
const TASKS_NOT_CARRIED = "tasks are not carried by this gateway";
const refuseTasks = () => ({ unsupported: TASKS_NOT_CARRIED });

/** `subscriptions/listen` (2026-07-28) names the resources whose updates it wants: each one is judged. */
function listen(params: unknown, method: string): ItemReference {
  const notifications = isObject(params) ? params.notifications : undefined;
  if (!isObject(notifications)) return { malformed: `${method} needs params.notifications as an object` };
  const uris = notifications.resourceSubscriptions ?? [];
  if (!Array.isArray(uris) || !uris.every((uri) => typeof uri === "string")) {
    return { malformed: `${method} needs params.notifications.resourceSubscriptions as a list of strings` };
  }
  return uris.length === 0 ? { none: true } : { items: uris.map((uri: string) => ({ kind: "resource", name: uri })) };
}

const REFERENCES: ReadonlyMap<string, (params: unknown, method: string) => ItemReference> = new Map(Object.entries({
  "tools/call": toolCall,
  "prompts/get": (params, method) => stringParam(params, "name", "prompt", method),
  "resources/read": (params, method) => stringParam(params, "uri", "resource", method),
  "resources/subscribe": (params, method) => stringParam(params, "uri", "resource", method),
  "resources/unsubscribe": (params, method) => stringParam(params, "uri", "resource", method),
  "completion/complete": (params, method) => {
    const ref = isObject(params) ? params.ref : undefined;
    if (isObject(ref) && ref.type === "ref/prompt") return stringParam(ref, "name", "prompt", method, "params.ref");
    if (isObject(ref) && ref.type === "ref/resource") {
      // `ref.uri` is the URI template whose variable is completed; SDK servers look the template up as written, so
      // it is judged as template lists are, not read as a URI.
      const reference = stringParam(ref, "uri", "resource", method, "params.ref");
      return "item" in reference ? { item: { ...reference.item, template: true } } : reference;
    }
    return { malformed: `${method} needs params.ref of type ref/prompt or ref/resource` };
  },
  "subscriptions/listen": listen,
  "tasks/get": refuseTasks,
  "tasks/result": refuseTasks,
  "tasks/list": refuseTasks,
  "tasks/cancel": refuseTasks,
}));

/** Method names the gateway judges or filters; near-misses of these are refused rather than passed on. */
const GOVERNED_METHODS = new Set([...REFERENCES.keys(), "tools/list", "prompts/list", "resources/list", "resources/templates/list"]);
const GOVERNED_FOLDED = new Map([...GOVERNED_METHODS].map((method) => [foldMethodName(method), method]));

/**
 * Folds everything a lenient comparison might ignore: compatibility forms (fullwidth), case as any language folds it
 * (upper-casing first maps dotless ı and long ſ to I and S, as Java's equalsIgnoreCase would), combining marks (İ
 * lower-cases to i plus a dot), and whitespace.
 */
function foldMethodName(method: string): string {
  return method.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFD").replace(/\p{M}/gu, "").replace(/\s+/g, "");
}

/**
 * A method that is not a governed one but folds to one (case, Unicode compatibility forms, whitespace) is refused:
 * a lenient backend might treat it as the real method, and it would then have escaped the policy.
 */
export function isDisguisedGovernedMethod(method: string): boolean {
  if (GOVERNED_METHODS.has(method)) return false;
  return GOVERNED_FOLDED.has(foldMethodName(method));
}

/** The item a client message uses, if any. */
export function referencedItem(message: JsonRpcMessage): ItemReference {
  const method = message.method;
  if (method === undefined) return { none: true };
  const reference = REFERENCES.get(method);
  return reference ? reference(message.params, method) : { none: true };
}

/** The refusal text agentgateway uses too: it reads as if the item did not exist, so existence is not revealed. */
export function unknownItemMessage(item: PolicyItem): string {
  return `Unknown ${item.kind}: ${item.name}`;
}
