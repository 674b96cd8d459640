/**
 * The definitions an MCP endpoint lists, exactly as it sends them, for `policy pin`: a small Streamable HTTP client
 * of its own (initialize, notifications/initialized, every page of tools/list, prompts/list and
 * resources/templates/list, then DELETE), since an SDK client parses what it receives into its own objects and a
 * digest must be of the server's JSON as written. Or the same read from a file: a tools/list result, a JSON-RPC
 * response holding one, a list of tools, or `{ tools, prompts, resourceTemplates }`.
 */
import { readFile } from "node:fs/promises";
import { parseMediaType } from "../../http/media-type.js";
import { CommandFailure } from "../command-failure.js";
import type { PinKind } from "../../pins/pin-set.js";

export type Definition = Record<string, unknown>;

/** Each kind's definitions; a kind absent is one the source does not say anything about. */
export type ListedDefinitions = Partial<Record<PinKind, Definition[]>>;

/** A list longer than this many pages is taken as a server that never stops paging. */
const MAX_PAGES = 1_000;

const LISTS: ReadonlyArray<readonly [PinKind, string, string]> = [
  ["tools", "tools/list", "tools"],
  ["prompts", "prompts/list", "prompts"],
  ["resourceTemplates", "resources/templates/list", "resourceTemplates"],
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The messages of a JSON body or of an event stream's `data:` fields. */
function messagesOf(type: string, text: string): unknown[] {
  if (type !== "text/event-stream") return [JSON.parse(text)].flat();
  return text
    .split(/\r\n\r\n|\n\n|\r\r/)
    .map((event) => event.split(/\r\n|\n|\r/).filter((line) => line.startsWith("data:")).map((line) => line.slice(5).replace(/^ /, "")).join("\n"))
    .filter((data) => data.length > 0)
    .flatMap((data) => [JSON.parse(data)].flat());
}

class RawMcpClient {
  private sessionId: string | undefined;
  private protocolVersion: string | undefined;
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
  ) {}

  private headers(): Record<string, string> {
    return {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
      ...(this.sessionId ? { "mcp-session-id": this.sessionId } : {}),
      ...(this.protocolVersion ? { "mcp-protocol-version": this.protocolVersion } : {}),
    };
  }

  /** Sends a request and resolves to its answer (result or error); a notification resolves to undefined. */
  async send(method: string, params: Record<string, unknown>, notification = false): Promise<Record<string, unknown> | undefined> {
    const id = notification ? undefined : this.nextId++;
    const response = await fetch(this.url, { method: "POST", headers: this.headers(), body: JSON.stringify({ jsonrpc: "2.0", ...(id === undefined ? {} : { id }), method, params }) });
    const text = await response.text();
    if (notification) return undefined;
    if (response.status >= 400) throw new CommandFailure(`${this.url} answered ${method} with HTTP ${response.status}: ${text.slice(0, 300)}`);
    this.sessionId ??= response.headers.get("mcp-session-id") ?? undefined;
    const type = parseMediaType(response.headers.get("content-type") ?? "")?.type ?? "";
    const answer = messagesOf(type, text).find((message) => isObject(message) && message.id === id);
    if (!isObject(answer)) throw new CommandFailure(`${this.url} sent no answer to ${method}`);
    return answer;
  }

  async initialize(): Promise<Record<string, unknown>> {
    const answer = await this.send("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "mcp-sso-gateway policy pin", version: "1" } });
    if (!isObject(answer?.result)) throw new CommandFailure(`${this.url} refused initialize: ${JSON.stringify(answer?.error)}`);
    this.protocolVersion = typeof answer.result.protocolVersion === "string" ? answer.result.protocolVersion : undefined;
    await this.send("notifications/initialized", {}, true);
    return answer.result;
  }

  /** Every page of one list; undefined when the endpoint has no such list (method not found). */
  async listAll(method: string, key: string): Promise<Definition[] | undefined> {
    const all: Definition[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const answer = await this.send(method, cursor === undefined ? {} : { cursor });
      if (!isObject(answer?.result)) {
        const error = isObject(answer?.error) ? answer.error : {};
        if (error.code === -32601) return undefined;
        throw new CommandFailure(`${this.url} answered ${method} with error ${String(error.code)}: ${String(error.message)}`);
      }
      const items = Array.isArray(answer.result[key]) ? answer.result[key] : [];
      all.push(...items.filter(isObject));
      cursor = typeof answer.result.nextCursor === "string" ? answer.result.nextCursor : undefined;
      if (cursor === undefined) return all;
    }
    throw new CommandFailure(`${this.url} was still paging ${method} after ${MAX_PAGES} pages`);
  }

  async close(): Promise<void> {
    if (!this.sessionId) return;
    await fetch(this.url, { method: "DELETE", headers: this.headers() }).then((r) => r.body?.cancel(), () => undefined);
  }
}

/** What `url` lists, as it sends it, with `token` as the bearer credential when given. */
export async function listDefinitionsAt(url: string, token: string | undefined): Promise<ListedDefinitions> {
  const client = new RawMcpClient(url, token);
  try {
    const { capabilities } = await client.initialize();
    const offered = isObject(capabilities) ? capabilities : {};
    const listed: ListedDefinitions = {};
    for (const [kind, method, key] of LISTS) {
      // Templates are offered under the resources capability.
      const capability = kind === "resourceTemplates" ? "resources" : kind;
      if (!isObject(offered[capability])) {
        listed[kind] = [];
        continue;
      }
      listed[kind] = (await client.listAll(method, key)) ?? [];
    }
    return listed;
  } catch (err) {
    if (err instanceof CommandFailure) throw err;
    throw new CommandFailure(`could not list ${url}: ${(err as Error).message}`, { cause: err });
  } finally {
    await client.close();
  }
}

/** The definitions in a JSON file, in any of the forms in this module's comment. */
export async function readDefinitionsFile(path: string): Promise<ListedDefinitions> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new CommandFailure(`--from ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (isObject(value) && isObject(value.result) && "jsonrpc" in value) value = value.result;
  if (Array.isArray(value)) return { tools: value.filter(isObject) };
  if (!isObject(value) || !LISTS.some(([kind]) => Array.isArray(value[kind]))) {
    throw new CommandFailure(`--from ${path}: expected a tools/list result, a JSON-RPC response holding one, a list of tools, or { tools, prompts, resourceTemplates }`);
  }
  const listed: ListedDefinitions = {};
  for (const [kind] of LISTS) if (Array.isArray(value[kind])) listed[kind] = (value[kind] as unknown[]).filter(isObject);
  return listed;
}
