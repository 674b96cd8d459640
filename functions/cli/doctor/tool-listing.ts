/**
 * Check 6, with a token: tools/list as this caller sees it, every page followed (the gateway filters each page by the
 * policy, so the first page alone can mislead), and how many pages it took.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Finding } from "./report.js";

/** A list longer than this many pages is taken as a server that never stops paging. */
const MAX_PAGES = 1_000;

export async function checkToolListing(client: Client): Promise<Finding> {
  const check = "tools/list";
  if (!client.getServerCapabilities()?.tools) return { level: "ok", check, seen: "the server offers no tools (no tools capability)" };
  const names: string[] = [];
  const cursors = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  try {
    do {
      const page = await client.listTools(cursor === undefined ? undefined : { cursor });
      pages++;
      names.push(...page.tools.map((tool) => tool.name));
      cursor = page.nextCursor;
      if (cursor !== undefined && cursors.has(cursor)) {
        return { level: "fail", check, seen: `the server sent the cursor ${JSON.stringify(cursor)} twice: clients listing tools never finish.` };
      }
      if (cursor !== undefined) cursors.add(cursor);
    } while (cursor !== undefined && pages < MAX_PAGES);
  } catch (error) {
    return { level: "fail", check, seen: `failed on page ${pages + 1}: ${error instanceof Error ? error.message : String(error)}.` };
  }
  const over = `${pages} page${pages === 1 ? "" : "s"}`;
  if (cursor !== undefined) return { level: "fail", check, seen: `still paging after ${over}: clients listing tools never finish.` };
  if (names.length === 0) {
    return {
      level: "warn",
      check,
      seen: `this caller sees no tools (${over}): the policy grants them none.`,
      fix: "grant tools to this caller's roles (mcp-sso-gateway policy explain --token ... --tool NAME shows why not).",
    };
  }
  return { level: "ok", check, seen: `this caller sees ${names.length} tool${names.length === 1 ? "" : "s"} over ${over}` };
}
