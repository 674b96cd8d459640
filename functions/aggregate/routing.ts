/**
 * Which server a message of the aggregated endpoint is for. Tools and prompts (and completions of a prompt) by the
 * prefix of their shown name, which is then removed (prefixed-names.ts); resources (reads, subscriptions, completions
 * of a template, listens) by which server lists them, from every server's whole lists (resource-owners.ts). A name
 * or URI no server owns is refused in the words of a denial (-32602 "Unknown tool: ..."), so whether an item exists
 * is not revealed.
 */
import { jsonResponse } from "../http/error-response.js";
import { RpcCode, errorResponse, type JsonRpcMessage } from "../mcp/jsonrpc.js";
import type { PolicyItem } from "../policy/types.js";
import type { BackendServer } from "../servers/backend-server.js";
import { ExchangeFailure, exchange } from "../servers/server-exchange.js";
import { isObject, withParams, type AggregateCall } from "./aggregate-call.js";
import { splitPrefixedName } from "./prefixed-names.js";
import type { ListedResources } from "./resource-owners.js";

/** The lists a server's resources are read from, for routing; more pages than this are not looked through. */
const MAX_LISTING_PAGES = 20;

/** Methods that name an item by a prefixed name (`params.name`). */
export const PREFIXED_METHODS: ReadonlySet<string> = new Set(["tools/call", "prompts/get"]);
/** Methods that name a resource by its URI (`params.uri`). */
const RESOURCE_METHODS: ReadonlySet<string> = new Set(["resources/read", "resources/subscribe", "resources/unsubscribe"]);
/** Methods whose items are judged once routed, as their owner's (the first pass checks only their shape). */
export const ROUTED_METHODS: ReadonlySet<string> = new Set([...PREFIXED_METHODS, ...RESOURCE_METHODS, "completion/complete", "subscriptions/listen"]);

export type Routed = { server: BackendServer; message: JsonRpcMessage; shown: string } | { unknown: PolicyItem };

/** Every page of one list of one server, or undefined when it could not answer. */
async function listAll(call: AggregateCall, server: BackendServer, method: string, key: string, field: string): Promise<string[] | undefined> {
  const found: string[] = [];
  let cursor: string | undefined;
  // The client's `_meta` (2026-07-28 carries the protocol version in it) goes with the gateway's own requests.
  const clientParams = call.req.post?.parsed.messages[0]?.params;
  const meta = isObject(clientParams) && isObject(clientParams._meta) ? { _meta: clientParams._meta } : {};
  for (let page = 0; page < MAX_LISTING_PAGES; page++) {
    try {
      const params = { ...meta, ...(cursor ? { cursor } : {}) };
      const request = { jsonrpc: "2.0" as const, id: `gateway-listing-${page}`, method, params };
      const { answer } = await exchange(call.req.request, server, request, await call.headersFor(server), call.ctx.options.maxMessageBytes);
      const items = Array.isArray(answer.result[key]) ? (answer.result[key] as unknown[]) : [];
      for (const item of items) if (isObject(item) && typeof item[field] === "string") found.push(item[field] as string);
      cursor = typeof answer.result.nextCursor === "string" ? answer.result.nextCursor : undefined;
      if (!cursor) return found;
    } catch (err) {
      if (err instanceof ExchangeFailure && err.code === RpcCode.MethodNotFound) return found;
      return undefined;
    }
  }
  return found;
}

/** Who owns each resource URI (and template, with `template`) in this session. */
export function resourceLookup(call: AggregateCall): Promise<(uri: string, template?: boolean) => string | undefined> {
  const { byName, owners } = call.ctx;
  return owners.lookup(
    call.sessionKey(),
    call.participants().map((s) => s.name),
    async (name): Promise<ListedResources | undefined> => {
      const server = byName.get(name) as BackendServer;
      const [uris, templates] = await Promise.all([
        listAll(call, server, "resources/list", "resources", "uri"),
        listAll(call, server, "resources/templates/list", "resourceTemplates", "uriTemplate"),
      ]);
      return uris === undefined && templates === undefined ? undefined : { uris: new Set(uris ?? []), templates: templates ?? [] };
    },
  );
}

/** The server a message is for, the message it is sent and the name the client used; or the item no server owns. */
export async function route(call: AggregateCall, message: JsonRpcMessage): Promise<Routed> {
  const method = message.method as string;
  const params = isObject(message.params) ? message.params : {};
  const ref = isObject(params.ref) ? params.ref : undefined;
  const completion = method === "completion/complete";
  if (PREFIXED_METHODS.has(method) || (completion && ref?.type === "ref/prompt")) {
    const shown = (completion ? ref?.name : params.name) as string;
    const split = splitPrefixedName(shown, call.ctx.names);
    const server = split && call.participant(split.server);
    if (!split || !server) return { unknown: { kind: method === "tools/call" ? "tool" : "prompt", name: shown } };
    const own = completion ? { ...params, ref: { ...ref, name: split.name } } : { ...params, name: split.name };
    return { server, message: withParams(message, own), shown };
  }
  const uri = (completion ? ref?.uri : params.uri) as string;
  const owner = (await resourceLookup(call))(uri, completion);
  const server = owner === undefined ? undefined : call.ctx.byName.get(owner);
  return server ? { server, message, shown: uri } : { unknown: { kind: "resource", name: uri } };
}

/** A name or URI no server owns, refused in the words of a denial. */
export function refuseUnknown(call: AggregateCall, message: JsonRpcMessage, item: PolicyItem): Response {
  const { log } = call;
  log.entry[item.kind] = item.name;
  log.entry.reason = `${item.kind} ${JSON.stringify(item.name)} belongs to no server of this endpoint`;
  log.entry.decision = "denied";
  log.write(200);
  return jsonResponse(errorResponse(message.id, RpcCode.InvalidParams, `Unknown ${item.kind}: ${item.name}`), 200);
}

/** A refusal naming the item as the client named it (`Unknown tool: docs_delete`, not the server's own name). */
export function shownInRefusal(response: JsonRpcMessage, shown: string): JsonRpcMessage {
  const error = response.error as { code: number; message: string } | undefined;
  const unknown = error && /^Unknown (tool|prompt|resource): /.exec(error.message);
  return unknown ? { ...response, error: { ...error, message: `${unknown[0]}${shown}` } } : response;
}
