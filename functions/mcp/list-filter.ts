/**
 * Removes what the caller may not use from list results.
 *
 * Results are recognised by their shape, not by remembering which request they answer: any JSON-RPC response whose
 * result holds `tools`, `prompts`, `resources` or `resourceTemplates` as an array is filtered. So a list is filtered
 * wherever it travels (JSON body, SSE event, batch, a stream resumed with GET), and a backend that answers under an
 * unexpected id cannot slip one through. Items whose identifying field is not a string are removed (fail closed).
 * Everything else in the result, `nextCursor` included, is left as it was, but for the hints result-hints.ts corrects.
 */
import type { ItemKind, PolicyItem } from "../policy/types.js";
import { correctResultHints } from "./result-hints.js";

/**
 * Result key, item kind, the item field the policy matches on, and whether that field is a URI template (judged as
 * written rather than under the readings a backend may make of a URI: PolicyItem.template).
 */
const LIST_SHAPES: ReadonlyArray<readonly [string, ItemKind, string, boolean]> = [
  ["tools", "tool", "name", false],
  ["prompts", "prompt", "name", false],
  ["resources", "resource", "uri", false],
  ["resourceTemplates", "resource", "uriTemplate", true],
];

/**
 * Whether the caller is shown a listed item: `item` is what the policy judges, `definition` the whole item as the
 * server listed it (what a pin is checked against: pins/). A predicate that needs only `item` may ignore it.
 * Absent only where the question is about another server's entry than the one at hand (the aggregated endpoint asking
 * whether the owner of a URI another server also lists is shown): the policy alone answers it.
 */
export type ItemPredicate = (item: PolicyItem, definition?: Readonly<Record<string, unknown>>) => boolean;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Filters one parsed message (or batch), and corrects its result's hints (result-hints.ts). Returns the same object
 * untouched when nothing changed.
 */
export function filterListResults(message: unknown, allows: ItemPredicate): { message: unknown; removed: number } {
  if (Array.isArray(message)) {
    let removed = 0;
    const filtered = message.map((element) => {
      const outcome = filterListResults(element, allows);
      removed += outcome.removed;
      return outcome.message;
    });
    return filtered.every((element, index) => element === message[index]) ? { message, removed } : { message: filtered, removed };
  }
  if (!isObject(message) || !isObject(message.result)) return { message, removed: 0 };
  let result = correctResultHints(message.result);
  let removed = 0;
  for (const [key, kind, field, template] of LIST_SHAPES) {
    const items = result[key];
    if (!Array.isArray(items)) continue;
    const kept = items.filter((item) => isObject(item) && typeof item[field] === "string" && allows(template ? { kind, name: item[field], template } : { kind, name: item[field] }, item));
    if (kept.length !== items.length) {
      removed += items.length - kept.length;
      result = { ...result, [key]: kept };
    }
  }
  return result === message.result ? { message, removed } : { message: { ...message, result }, removed };
}
