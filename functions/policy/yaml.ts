/**
 * The one YAML dialect of policy documents and `policy test` files, for the gateway and the CLI alike (js-yaml):
 * YAML 1.2 core schema (JSON is valid input), duplicate keys refused, one document per text, no custom tags.
 */
import { CORE_SCHEMA, defineMappingTag, loadAll, mapTag, YAMLException } from "js-yaml";

/**
 * Mappings as js-yaml builds them (plain objects, scalar keys as strings), except that a null key (`~`, `null`, or no
 * key at all) is the empty string rather than "null", as the gateway has always read it: refused wherever a name is
 * needed, instead of naming a tool "null".
 */
const mapping = defineMappingTag(mapTag.tagName, {
  ...mapTag,
  addPair: (map, key, value) => mapTag.addPair(map, key ?? "", value),
  has: (map, key) => mapTag.has(map, key ?? ""),
});

const SCHEMA = CORE_SCHEMA.withTags(mapping);

/**
 * At most this many aliases (`*name`) per document, as the YAML parser the gateway used before allowed. An alias is a
 * reference to an anchored value, not a copy, so a few of them can still stand for an enormous document; see
 * `MIN_VALUE_BUDGET`.
 */
const MAX_ALIASES = 100;

/**
 * How many values (list items and mapping entries, with aliases expanded) a document may hold: at least this many,
 * and never fewer than its length in characters, which no document without aliases can exceed. Past it, aliases are
 * being used to blow the document up (the "billion laughs" pattern, or an alias inside its own anchor): refused
 * before anything walks the whole value.
 */
const MIN_VALUE_BUDGET = 100_000;

/**
 * The value of a YAML or JSON text; `null` for an empty one (nothing but spaces and comments). Throws on anything
 * else, with the line and column of the problem and a snippet of the text around it.
 */
export function parseYaml(text: string): unknown {
  let documents: unknown[];
  try {
    documents = loadAll(text, { schema: SCHEMA, maxAliases: MAX_ALIASES });
  } catch (err) {
    // The place in words, as in `... at line 3, column 3:`, then the snippet js-yaml marked.
    if (err instanceof YAMLException && err.mark) {
      const place = `${err.reason} at line ${err.mark.line + 1}, column ${err.mark.column + 1}`;
      err.message = err.mark.snippet ? `${place}:\n\n${err.mark.snippet}` : place;
    }
    throw err;
  }
  if (documents.length > 1) throw new YAMLException("expected a single document in the stream, but found more");
  const value = documents[0] ?? null;
  checkExpandedSize(value, Math.max(MIN_VALUE_BUDGET, text.length));
  return value;
}

/** Counts the values of the loaded document, aliases expanded, and stops as soon as there are more than `budget`. */
function checkExpandedSize(root: unknown, budget: number): void {
  let count = 0;
  const pending = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== "object" || node === null) continue;
    for (const value of Object.values(node)) {
      if (++count > budget) {
        throw new YAMLException(`the document's aliases expand to more than ${budget} values (aliases within aliases, or an alias inside its own anchor)`);
      }
      pending.push(value);
    }
  }
}
