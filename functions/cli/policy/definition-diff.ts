/**
 * What changed in one definition, for `policy pin` to print, so that an approval is a review of the change itself:
 * text fields (description, title, name) as a word diff, `[-removed-]{+added+}` as `git diff --word-diff=plain`
 * writes it; everything else (schemas, annotations, `_meta`) field by field, each leaf by its path: `+` added, `-`
 * removed, `~` changed, values as canonical JSON.
 */
import { diffWords } from "diff";
import { canonicalJson } from "../../pins/definition-digest.js";

type Definition = Record<string, unknown>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Leaf values by path (`inputSchema.properties.message.type`); an empty object or list is a leaf of its own. */
function leaves(value: unknown, path: string, into: Map<string, string>): Map<string, string> {
  const entries = isObject(value) ? Object.entries(value) : Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : undefined;
  if (entries === undefined || entries.length === 0) into.set(path, canonicalJson(value));
  else for (const [key, child] of entries) leaves(child, path === "" ? key : `${path}.${key}`, into);
  return into;
}

/** A word diff of two texts, indented under its field. */
function wordDiff(before: string, after: string): string {
  const marked = diffWords(before, after)
    .map((part) => (part.added ? `{+${part.value}+}` : part.removed ? `[-${part.value}-]` : part.value))
    .join("");
  return marked.split("\n").map((line) => `      ${line}`).join("\n");
}

/** The lines saying how `after` differs from `before` (none when they are equal). */
export function definitionDiff(before: Definition, after: Definition): string[] {
  const lines: string[] = [];
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const field of fields) {
    const [old, now] = [before[field], after[field]];
    if (typeof old === "string" && typeof now === "string") {
      if (old !== now) lines.push(`    ${field}:`, wordDiff(old, now));
      continue;
    }
    const [was, is] = [old === undefined ? new Map<string, string>() : leaves(old, field, new Map()), now === undefined ? new Map<string, string>() : leaves(now, field, new Map())];
    for (const path of [...new Set([...was.keys(), ...is.keys()])].sort()) {
      const [a, b] = [was.get(path), is.get(path)];
      if (a === b) continue;
      if (a === undefined) lines.push(`    + ${path}: ${b}`);
      else if (b === undefined) lines.push(`    - ${path}: ${a}`);
      else lines.push(`    ~ ${path}: ${a} → ${b}`);
    }
  }
  return lines;
}

/** The whole of a definition with nothing to compare it with: every field as added. */
export function wholeDefinition(definition: Definition): string[] {
  return definitionDiff({}, definition);
}
