/**
 * `policy validate --tools`: the backends' tools lint checks the policy against (lint-tools.ts). Either one backend's
 * tools (names, comma-separated, or a JSON file holding a list, a tools/list result or a JSON-RPC response with one),
 * or each server's, as a JSON file mapping server names to any of those:
 *
 * ```json
 * { "github": [{ "name": "search_code" }, { "name": "create_issue" }], "jira": { "tools": [{ "name": "search" }] } }
 * ```
 *
 * An object that is a tools/list result (`tools`, and only the keys such a result has) or a JSON-RPC response holding
 * one keeps that meaning, as before servers were named: a file naming a single server `tools` is read as one list.
 */
import { readFile } from "node:fs/promises";
import type { LintFacts } from "../../policy/lint.js";
import { UsageError } from "../usage-error.js";
import { isPlainObject, serverName } from "./identity-input.js";

/** The keys a tools/list result has (MCP `ListToolsResult`), and those of the JSON-RPC response holding one. */
const TOOLS_LIST_KEYS = new Set(["tools", "nextCursor", "_meta"]);
const RESPONSE_KEYS = new Set(["jsonrpc", "id", "result"]);

const only = (value: Record<string, unknown>, keys: ReadonlySet<string>) => Object.keys(value).every((key) => keys.has(key));

/**
 * One backend's tool list in any of its forms, or undefined when `value` is none of them: a list (of names or tools),
 * a tools/list result (`tools` and nothing a result does not have), a JSON-RPC response holding one.
 */
function toolList(value: unknown): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  if (!isPlainObject(value)) return undefined;
  if (Array.isArray(value.tools) && only(value, TOOLS_LIST_KEYS)) return value.tools;
  if (isPlainObject(value.result) && only(value, RESPONSE_KEYS)) return toolList(value.result);
  return undefined;
}

function names(list: readonly unknown[]): string[] {
  return list.map((tool) => (typeof tool === "string" ? tool : String((tool as { name?: unknown }).name)));
}

/** The lint facts of a `--tools` value: `tools` (one backend), or `serverTools` (a JSON object keyed by server). */
export async function toolFacts(value: string): Promise<Pick<LintFacts, "tools" | "serverTools">> {
  if (!value.endsWith(".json")) return { tools: value.split(",").map((t) => t.trim()).filter(Boolean) };
  const parsed: unknown = JSON.parse(await readFile(value, "utf8"));
  const list = toolList(parsed);
  if (list) return { tools: names(list) };
  const expected = `expected a list of names or tools, a tools/list result with "tools", or an object mapping server names to those`;
  if (!isPlainObject(parsed) || Object.keys(parsed).length === 0) throw new UsageError(`--tools ${value}: ${expected}`);
  const serverTools: Record<string, string[]> = {};
  for (const [server, tools] of Object.entries(parsed)) {
    serverName(server, `--tools ${value}`);
    const ofServer = toolList(tools);
    if (!ofServer) throw new UsageError(`--tools ${value}: server ${server}: expected a list of names or tools, or a tools/list result with "tools"`);
    serverTools[server] = names(ofServer);
  }
  return { serverTools };
}
