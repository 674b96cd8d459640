/**
 * What a CEL condition's shape says about where it can hold, found once when the policy loads, so that a decision
 * looks only at the rules that concern an item instead of evaluating every rule for every item of a list:
 *
 * - the items it can hold for: a top-level conjunct `mcp.tool.name == "echo"` (either side; `mcp["tool"]["name"]`;
 *   `mcp.resource.uri` for resources; `in ["a", "b"]`; `.startsWith("db_")`, `.endsWith`, `.contains`; `||` of such
 *   tests) is false for every other item, so the rule is false there too: CEL's `&&` is true only when every operand
 *   is true, and in three-valued listing a false conjunct decides the whole. Exact names and name prefixes let a
 *   decision look the rule up by the item's name; every such test is also run in plain JavaScript before any CEL;
 * - the conjuncts that read only the caller's claims (no `mcp` at all): their value is the same for every item, so it
 *   can be worked out once per caller.
 *
 * Pure functions over the syntax tree; nothing here evaluates anything.
 */
import type { ASTNode } from "@marcbachmann/cel-js";
import type { ItemKind } from "./types.js";

/**
 * Items a rule can hold for: a kind, and either one exact name (a tool name, a resource URI), or every name starting
 * with `prefix`; neither: any name of the kind.
 */
export interface ItemRef {
  kind: ItemKind;
  name?: string;
  prefix?: string;
}

const KINDS: ReadonlySet<string> = new Set<ItemKind>(["tool", "prompt", "resource"]);

/** The operands of the top-level `&&` chain (the whole condition when it is not a conjunction). */
export function topLevelConjuncts(node: ASTNode): ASTNode[] {
  if (node.op !== "&&") return [node];
  const [left, right] = node.args as [ASTNode, ASTNode];
  return [...topLevelConjuncts(left), ...topLevelConjuncts(right)];
}

/** A string literal's value, or undefined when the node is anything else. */
function stringLiteral(node: unknown): string | undefined {
  const candidate = node as ASTNode | undefined;
  return candidate?.op === "value" && typeof candidate.args === "string" ? candidate.args : undefined;
}

/** `base.field` or `base["field"]`: the base, when `node` selects that constant field; else undefined. */
function selected(node: unknown, fields: ReadonlySet<string>): { base: ASTNode; field: string } | undefined {
  const candidate = node as ASTNode | undefined;
  if (candidate?.op !== "." && candidate?.op !== "[]") return undefined;
  const [base, key] = candidate.args as [ASTNode, unknown];
  const field = candidate.op === "." ? key : candidate.op === "[]" ? stringLiteral(key) : undefined;
  return typeof field === "string" && fields.has(field) ? { base, field } : undefined;
}

/**
 * The fields that hold an item's name. Not `target`: that is the item's server, and a rule on it (`mcp.tool.target ==
 * "github"`) holds for any name of that server's items, so it is filed for any name.
 */
const NAME_FIELDS = new Set(["name", "uri"]);

/**
 * The kind whose name `node` reads: `mcp.<kind>.name`, or `mcp.resource.uri` (both hold a resource's URI). The
 * gateway's `mcp` variable holds exactly the item being judged under its kind, so such a read equals the item's name
 * for an item of that kind and is an error (so never true) for any other.
 */
function nameReadOf(node: unknown): ItemKind | undefined {
  const name = selected(node, NAME_FIELDS);
  if (!name) return undefined;
  const kind = selected(name.base, KINDS);
  if (!kind || kind.base.op !== "id" || kind.base.args !== "mcp") return undefined;
  if (name.field === "uri" && kind.field !== "resource") return undefined;
  return kind.field as ItemKind;
}

/**
 * A test of the item's kind and name that a condition spells out: `items`, the items it can be true for (exact names,
 * name prefixes, kinds); `test`, the same test in plain JavaScript, false whenever the CEL test is not true.
 */
interface NameTest {
  items: ItemRef[];
  test(kind: ItemKind, name: string): boolean;
}

/**
 * String methods whose CEL definition is the JavaScript method of the same effect (cel-js implements them so), and
 * the items each can be true for.
 */
const STRING_TESTS: Readonly<Record<string, { test: (name: string, literal: string) => boolean; items: (kind: ItemKind, literal: string) => ItemRef }>> = {
  startsWith: { test: (name, literal) => name.startsWith(literal), items: (kind, prefix) => ({ kind, prefix }) },
  endsWith: { test: (name, literal) => name.endsWith(literal), items: (kind) => ({ kind }) },
  contains: { test: (name, literal) => name.includes(literal), items: (kind) => ({ kind }) },
};

/**
 * The name test a condition is made of, when it is one: `==` a string literal, `in` a list of string literals,
 * `.startsWith` / `.endsWith` / `.contains` a string literal, and `||` of such tests. Undefined otherwise.
 */
function nameTestOf(node: ASTNode): NameTest | undefined {
  const args = node.args as unknown[];
  if (node.op === "==") {
    for (const [read, literal] of [[args[0], args[1]], [args[1], args[0]]] as const) {
      const kind = nameReadOf(read);
      const name = stringLiteral(literal);
      if (kind && name !== undefined) return { items: [{ kind, name }], test: (k, n) => k === kind && n === name };
    }
    return undefined;
  }
  if (node.op === "in") {
    const kind = nameReadOf(args[0]);
    const list = args[1] as ASTNode | undefined;
    if (!kind || list?.op !== "list") return undefined;
    const names = (list.args as unknown[]).map(stringLiteral);
    if (!names.every((name) => name !== undefined)) return undefined;
    const set = new Set(names);
    return { items: [...set].map((name) => ({ kind, name })), test: (k, n) => k === kind && set.has(n) };
  }
  if (node.op === "rcall") {
    const [method, target, callArgs] = args as [string, ASTNode, ASTNode[]];
    const kind = nameReadOf(target);
    const literal = callArgs.length === 1 ? stringLiteral(callArgs[0]) : undefined;
    const stringTest = Object.hasOwn(STRING_TESTS, method) ? STRING_TESTS[method] : undefined;
    if (!kind || literal === undefined || !stringTest) return undefined;
    return { items: [stringTest.items(kind, literal)], test: (k, n) => k === kind && stringTest.test(n, literal) };
  }
  if (node.op === "||") {
    const [left, right] = (args as ASTNode[]).map(nameTestOf);
    if (!left || !right) return undefined;
    return { items: [...left.items, ...right.items], test: (k, n) => left.test(k, n) || right.test(k, n) };
  }
  return undefined;
}

function sameRef(a: ItemRef, b: ItemRef): boolean {
  return a.kind === b.kind && a.name === b.name && a.prefix === b.prefix;
}

function unique(refs: readonly ItemRef[]): ItemRef[] {
  return refs.filter((ref, index) => refs.findIndex((other) => sameRef(ref, other)) === index);
}

export interface ItemsTested {
  /**
   * The items the condition can hold for: when conjuncts test exact names only, the items every one of them allows;
   * else those of one conjunct that tests names (each conjunct alone bounds the whole).
   */
  items: ItemRef[];
  /** The conjuncts' name tests in plain JavaScript: when false for an item, the condition is false for it. */
  test: (kind: ItemKind, name: string) => boolean;
}

/** What a condition's top-level conjuncts say about the item's kind and name; undefined when none tests names. */
export function itemsTested(conjuncts: readonly ASTNode[]): ItemsTested | undefined {
  const tests = conjuncts.map(nameTestOf).filter((test) => test !== undefined);
  if (tests.length === 0) return undefined;
  const exactOnly = tests.filter((t) => t.items.every((ref) => ref.name !== undefined)).map((t) => unique(t.items));
  const narrowest = tests.find((t) => t.items.every((ref) => ref.name !== undefined || ref.prefix !== undefined)) ?? tests[0]!;
  const items = exactOnly.length > 0 ? exactOnly.reduce((all, next) => all.filter((ref) => next.some((other) => sameRef(ref, other)))) : unique(narrowest.items);
  return { items, test: tests.length === 1 ? tests[0]!.test : (kind, name) => tests.every((t) => t.test(kind, name)) };
}

/** The nodes directly under `node` (operands, call arguments, list elements). */
export function children(node: ASTNode): ASTNode[] {
  const found: ASTNode[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object" && "op" in value) found.push(value as ASTNode);
  };
  visit(node.args);
  return found;
}

/**
 * Whether an expression mentions the `mcp` variable anywhere. When it does not, its value depends on the caller's
 * claims alone. (A macro variable that happens to be called `mcp` counts as a mention: erring that way only means
 * evaluating per item, as before.)
 */
export function mentionsItem(node: ASTNode): boolean {
  return mentions(node);
}

/** Depth-first over whatever `args` holds (nodes, arrays of nodes, arrays of arrays), allocating nothing. */
function mentions(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(mentions);
  if (!value || typeof value !== "object" || !("op" in value)) return false;
  const node = value as ASTNode;
  return (node.op === "id" && node.args === "mcp") || mentions(node.args);
}
