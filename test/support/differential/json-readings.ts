/**
 * The two ways JSON parsers read an object with a duplicate key: JSON.parse (and every JavaScript MCP SDK) keeps the
 * last occurrence; others (many Go, Java and Python streaming parsers, hand-written clients) keep the first. The
 * first-occurrence reading is built on jsonc-parser's visitor, which reports every member as it is scanned, with
 * comments and trailing commas refused so it reads strict JSON only.
 */
import { printParseErrorCode, visit } from "jsonc-parser";
import { jsonString } from "../../property/support/arbitraries.js";

interface Open {
  container: Record<string, unknown> | unknown[];
  /** Keys already seen in this object. */
  seen: Set<string>;
  /** The key of the member being read, and whether its value is a later duplicate (read but not kept). */
  key: string | undefined;
  keep: boolean;
  /** This container is itself the value of a dropped duplicate. */
  dropped: boolean;
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  // As JSON.parse does: `__proto__` is an ordinary own member, not the prototype.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export interface FirstReading {
  value: unknown;
  /** Whether any object in the text repeats a key. */
  duplicates: boolean;
}

/** Reads strict JSON keeping the first occurrence of each duplicate key; throws on anything JSON.parse would refuse. */
export function readFirstOccurrence(text: string): FirstReading {
  const stack: Open[] = [];
  let root: unknown;
  let rooted = false;
  let duplicates = false;

  const place = (value: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) {
      root = value;
      rooted = true;
      return;
    }
    if (top.dropped) return;
    if (Array.isArray(top.container)) top.container.push(value);
    else if (top.keep) define(top.container, top.key!, value);
  };
  const droppedHere = () => {
    const top = stack[stack.length - 1];
    return top !== undefined && (top.dropped || (!Array.isArray(top.container) && !top.keep));
  };
  const open = (container: Record<string, unknown> | unknown[]) => {
    stack.push({ container, seen: new Set(), key: undefined, keep: true, dropped: droppedHere() });
  };
  const close = () => {
    const done = stack.pop()!;
    place(done.container);
  };

  visit(
    text,
    {
      onObjectBegin: () => open({}),
      onObjectEnd: close,
      onArrayBegin: () => open([]),
      onArrayEnd: close,
      onObjectProperty: (property) => {
        const top = stack[stack.length - 1]!;
        top.key = property;
        top.keep = !top.seen.has(property);
        if (!top.keep) duplicates = true;
        top.seen.add(property);
      },
      onLiteralValue: (value) => place(value),
      onError: (error, offset) => {
        throw new SyntaxError(`not strict JSON: ${printParseErrorCode(error)} at ${offset}`);
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  if (!rooted) throw new SyntaxError("not strict JSON: no value");
  return { value: root, duplicates };
}

/** How deeply objects and arrays nest in a parsed value (a scalar is 0, `{}` and `[]` are 1). */
export function nestingDepth(value: unknown): number {
  let deepest = 0;
  const walk: Array<[unknown, number]> = [[value, 0]];
  while (walk.length > 0) {
    const [node, depth] = walk.pop()!;
    if (typeof node !== "object" || node === null) {
      deepest = Math.max(deepest, depth);
      continue;
    }
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(node)) walk.push([child, depth + 1]);
  }
  return deepest;
}

/** A JSON value as written: objects keep their members in order, duplicates included. */
export type Doc = { members: Array<[string, Doc]> } | { items: Doc[] } | { value: unknown };

export const lit = (value: unknown): Doc => ({ value });

/** How a document is spelled: whitespace between tokens, and which characters of strings are `\uXXXX` escapes. */
export interface Spelling {
  ws: string;
  /** Which characters of strings and keys are escaped (cycled), if any. */
  escapes: boolean[] | undefined;
}

export function write(doc: Doc, spelling: Spelling): string {
  const { ws, escapes } = spelling;
  const string = (text: string) => jsonString(text, escapes ? (i) => escapes[i % escapes.length]! : undefined);
  if ("members" in doc) return `{${ws}${doc.members.map(([key, value]) => `${string(key)}${ws}:${ws}${write(value, spelling)}`).join(`${ws},${ws}`)}${ws}}`;
  if ("items" in doc) return `[${ws}${doc.items.map((item) => write(item, spelling)).join(`${ws},${ws}`)}${ws}]`;
  return typeof doc.value === "string" ? string(doc.value) : JSON.stringify(doc.value);
}
