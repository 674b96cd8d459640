/**
 * Reads JSON text the way the gateway judges it, and says what other parsers on the path could read differently.
 *
 * JSON.parse keeps the last of duplicate keys; other parsers keep the first, or refuse the text. A message with
 * duplicate keys is therefore never passed on as it came: whoever forwards it re-serialises what was judged
 * (`JSON.stringify` of this reading), so every parser behind or in front of the gateway reads the same message.
 * Nesting is bounded too: JSON.parse reads any depth, but everything that walks a value afterwards (the policy's
 * view of arguments, list filtering, re-serialisation, the client's own schema checks) recurses, and a few thousand
 * levels overflow its stack.
 */

/** Deepest nesting of arrays and objects accepted, in either direction (MCP messages need a few dozen levels at most). */
export const MAX_JSON_DEPTH = 128;

export type JsonReading =
  /** `value` as JSON.parse reads it; `duplicateKeys`: some object in the text names a key twice. */
  | { value: unknown; duplicateKeys: boolean }
  | { problem: "not JSON" | "nested too deeply" };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/**
 * One pass over the text outside its strings (strings are skipped with native `indexOf`): the colons that separate
 * object members, and whether nesting goes deeper than allowed. In valid JSON a colon outside a string separates a
 * member from its value, and nothing else.
 */
function structure(text: string, maxDepth: number): { members: number; tooDeep: boolean } {
  let members = 0;
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      let end = text.indexOf('"', i + 1);
      // A quote preceded by an odd number of backslashes is escaped: the string goes on.
      while (end !== -1 && escapedAt(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) break;
      i = end;
    } else if (code === COLON) {
      members++;
    } else if (code === OPEN_OBJECT || code === OPEN_ARRAY) {
      if (++depth > maxDepth) return { members, tooDeep: true };
    } else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      depth--;
    }
  }
  return { members, tooDeep: false };
}

function escapedAt(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let i = quote - 1; text.charCodeAt(i) === BACKSLASH; i--) backslashes++;
  return backslashes % 2 === 1;
}

/** Members of every object in a parsed value; fewer than the text's colons means some key was given twice. */
function memberCount(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== "object" || next === null) continue;
    if (Array.isArray(next)) {
      for (const element of next) if (typeof element === "object" && element !== null) pending.push(element);
      continue;
    }
    for (const key in next) {
      count++;
      const member = (next as Record<string, unknown>)[key];
      if (typeof member === "object" && member !== null) pending.push(member);
    }
  }
  return count;
}

/** Parses JSON text, refusing nesting deeper than `maxDepth`, and tells whether any key was duplicated. */
export function readJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonReading {
  const { members, tooDeep } = structure(text, maxDepth);
  if (tooDeep) return { problem: "nested too deeply" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: "not JSON" };
  }
  return { value, duplicateKeys: members > 0 && memberCount(value) !== members };
}
