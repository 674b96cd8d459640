/**
 * A CEL condition of a policy rule, compiled once per policy load.
 *
 * Conditions may read a tool call's arguments (`mcp.tool.arguments.amount < 1000`). A call is judged on its real
 * arguments. A list has no arguments, so there the question is whether *some* arguments could satisfy the condition:
 * the condition is evaluated in three-valued logic, where every part that reads `mcp.tool.arguments` is unknown, and
 * `&&`, `||`, `!` combine known and unknown parts (false && unknown = false; true || unknown = true; otherwise unknown).
 */
import { Environment, serialize, type ASTNode } from "@marcbachmann/cel-js";
import { PolicyError } from "../errors.js";
import { checkCel } from "./cel-schema.js";
import { children, itemsTested, mentionsItem, topLevelConjuncts, type ItemRef } from "./rule-scope.js";
import type { Identity, ItemKind, PolicyItem } from "./types.js";

/** true, false, or "unknown" (depends on arguments not known yet). */
export type Truth = boolean | "unknown";

export interface CelCondition {
  /**
   * The condition's value for this caller and item; arguments absent (listing) may give "unknown". `variables`, when
   * given, must be `celVariables(identity, item)`: built once per item and shared by every rule judging it.
   */
  evaluate(identity: Identity, item: PolicyItem, variables?: CelVariables): Truth;
  /** Whether the condition reads the tool call's arguments at all. */
  readonly readsArguments: boolean;
  /** The only items the condition can hold for (its top-level name tests); undefined: it may hold for any item. */
  readonly appliesTo?: readonly ItemRef[];
  /**
   * The condition's value for this caller when it is the same for every item, worked out from the claims alone (once
   * per caller, not once per item): a condition on claims only, or one whose conjuncts on claims already fail.
   * Undefined when the value depends on the item. Absent when the condition's shape never allows this.
   */
  forCaller?(identity: Identity): boolean | undefined;
}

/** The CEL activation of one caller and item: `mcp` and `jwt`. */
export type CelVariables = Record<string, unknown>;

/**
 * The environment conditions are evaluated in: `mcp` and `jwt` as untyped maps, as agentgateway reads them. What a
 * condition may read of them is checked when the policy loads, against the fields the gateway binds (cel-schema.ts).
 */
const cel = new Environment();
cel.registerVariable("mcp", "map");
cel.registerVariable("jwt", "map");

type Evaluator = ReturnType<typeof cel.parse>;

/** The `mcp` and `jwt` variables for one item, shaped as agentgateway shapes them (`mcp.tool.name`, ...). */
export function celVariables(identity: Identity, item: PolicyItem): CelVariables {
  const described: Record<string, unknown> = item.kind === "resource" ? { name: item.name, uri: item.name } : { name: item.name };
  // Only when known, as arguments: an item of no server has no target field (`has(mcp.tool.target)` is false).
  if (item.target !== undefined) described.target = item.target;
  if (item.arguments !== undefined) described.arguments = item.arguments;
  return { mcp: { [item.kind]: described }, jwt: identity.claims };
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0] ?? message;
}

/** The spellings of `mcp.<kind>` the gateway binds (`mcp.tool`, `mcp["tool"]`), per kind. */
const ITEM_SPELLINGS: Readonly<Record<ItemKind, ReadonlySet<string>>> = {
  tool: new Set(["mcp.tool", 'mcp["tool"]']),
  prompt: new Set(["mcp.prompt", 'mcp["prompt"]']),
  resource: new Set(["mcp.resource", 'mcp["resource"]']),
};

/** Does this expression read `mcp.<kind>.<field>` (by `.`, `.?`, `[]` or `[?]`), anywhere in it? */
function readsItemField(node: ASTNode, kind: ItemKind, field: string): boolean {
  const args = node.args as unknown[];
  const spellings = ITEM_SPELLINGS[kind];
  if ((node.op === "." || node.op === ".?") && args[1] === field && spellings.has(serialize(args[0] as ASTNode))) return true;
  if ((node.op === "[]" || node.op === "[?]") && spellings.has(serialize(args[0] as ASTNode)) && serialize(args[1] as ASTNode) === JSON.stringify(field)) return true;
  return children(node).some((child) => readsItemField(child, kind, field));
}

/** Does this expression read `mcp.tool.arguments`? */
function readsArguments(node: ASTNode): boolean {
  return readsItemField(node, "tool", "arguments");
}

/** Evaluation that treats an error as false (agentgateway semantics: a missing claim simply does not match). */
function safely(evaluate: Evaluator, variables: Record<string, unknown>): boolean {
  try {
    return evaluate(variables) === true;
  } catch {
    return false;
  }
}

type ThreeValued = (variables: Record<string, unknown>) => Truth;

/**
 * Builds a three-valued evaluator: parts for which `isUnknown` holds are unknown, the rest are compiled and evaluated
 * on their own. Listing treats argument-reading parts as unknown; lint also treats claim-reading parts as unknown
 * ("could this hold for anyone?").
 */
function threeValued(node: ASTNode, isUnknown: (node: ASTNode) => boolean = readsArguments): ThreeValued {
  if (node.op === "&&" || node.op === "||") {
    const [left, right] = (node.args as [ASTNode, ASTNode]).map((n) => threeValued(n, isUnknown)) as [ThreeValued, ThreeValued];
    const decisive = node.op === "&&" ? false : true;
    return (variables) => {
      const a = left(variables);
      if (a === decisive) return decisive;
      const b = right(variables);
      if (b === decisive) return decisive;
      return a === "unknown" || b === "unknown" ? "unknown" : !decisive;
    };
  }
  if (node.op === "!_") {
    const inner = threeValued(node.args as ASTNode, isUnknown);
    return (variables) => {
      const value = inner(variables);
      return value === "unknown" ? value : !value;
    };
  }
  if (isUnknown(node)) return () => "unknown";
  const leaf = cel.parse(serialize(node));
  return (variables) => safely(leaf, variables);
}

/** The syntax tree of a condition that compiles (for lint); throws like `compileCelCondition` otherwise. */
export function celSyntaxTree(origin: string, expression: string): ASTNode {
  compileCelCondition(origin, expression);
  return cel.parse(expression).ast;
}

/** The claims a condition reads (`jwt.groups`, `jwt["https://example.com/roles"]`). */
export function claimsRead(node: ASTNode): string[] {
  const args = node.args as unknown[];
  const own: string[] = [];
  const isJwt = (n: unknown) => (n as ASTNode | undefined)?.op === "id" && (n as ASTNode).args === "jwt";
  if ((node.op === "." || node.op === ".?") && isJwt(args[0])) own.push(args[1] as string);
  if ((node.op === "[]" || node.op === "[?]") && isJwt(args[0]) && (args[1] as ASTNode).op === "value") own.push(String((args[1] as ASTNode).args));
  return [...own, ...children(node).flatMap(claimsRead)];
}

/**
 * Whether a condition could hold for this item for some caller and some arguments: the parts reading claims or
 * arguments are unknown, and so, for an item of no known server (no `target`), are the parts reading its target: lint
 * asks about items of every server at once. False means no token and no call could ever make it hold (for lint).
 */
export function couldHoldForAnyone(node: ASTNode, item: PolicyItem): boolean {
  const targetUnknown = item.target === undefined;
  const evaluate = threeValued(node, (n) => readsArguments(n) || claimsRead(n).length > 0 || (targetUnknown && readsItemField(n, item.kind, "target")));
  return evaluate({ mcp: celVariables({ subject: "", claims: {}, roles: [], scopes: [] }, item).mcp, jwt: {} }) !== false;
}

/** The MCP item kinds a condition reads (`mcp.tool`, `mcp.prompt`, `mcp.resource`). */
export function itemKindsRead(node: ASTNode): string[] {
  const args = node.args as unknown[];
  const isMcp = (n: unknown) => (n as ASTNode | undefined)?.op === "id" && (n as ASTNode).args === "mcp";
  const own = (node.op === "." || node.op === ".?") && isMcp(args[0]) ? [args[1] as string] : [];
  return [...own, ...children(node).flatMap(itemKindsRead)];
}

/**
 * A condition that is not valid: the message names `origin`; `offset`, when known, is where in the condition the
 * problem is (0-based), for the document's own position (compile.ts adds the line and column).
 */
export class CelConditionError extends PolicyError {
  constructor(
    message: string,
    readonly offset: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CelConditionError";
  }
}

/**
 * Parses and type-checks a condition; throws CelConditionError naming `origin` when it is not a valid boolean
 * condition over the variables the gateway provides. `kind`: the condition is only ever judged for items of that
 * kind (a grant's `when`), so `mcp` holds only that kind.
 */
export function compileCelCondition(origin: string, expression: string, kind?: ItemKind): CelCondition {
  let evaluate: Evaluator;
  try {
    evaluate = cel.parse(expression);
  } catch (err) {
    const range = (err as { range?: { start: number } }).range;
    throw new CelConditionError(`${origin}: CEL does not parse: ${firstLine(err)}`, range?.start, { cause: err });
  }
  const check = checkCel(expression, kind);
  if (!check.valid) throw new CelConditionError(`${origin}: CEL is not valid here: ${check.message}`, check.offset);
  if (check.type !== "bool" && check.type !== "dyn") {
    const type = check.type.startsWith("Gateway_") ? "an object of the gateway's" : check.type;
    throw new CelConditionError(`${origin}: a rule must be a boolean condition, but this one gives ${type}`, 0);
  }
  const usesArguments = readsArguments(evaluate.ast);
  const listing = usesArguments ? threeValued(evaluate.ast) : undefined;
  const conjuncts = topLevelConjuncts(evaluate.ast);
  const tested = itemsTested(conjuncts);
  const nameTest = tested?.test;
  return {
    readsArguments: usesArguments,
    appliesTo: tested?.items,
    forCaller: callerPart(evaluate, conjuncts, usesArguments || tested?.items.every((ref) => ref.name !== undefined) === true),
    evaluate(identity, item, variables = celVariables(identity, item)) {
      // A name test that fails makes the condition false (rule-scope.ts): no need to ask CEL.
      if (nameTest && !nameTest(item.kind, item.name)) return false;
      if (listing && item.kind === "tool" && item.arguments === undefined) return listing(variables);
      return safely(evaluate, variables);
    },
  };
}

/**
 * What a condition says about a caller regardless of the item, if its shape lets us tell:
 * - a condition that never mentions `mcp` has one value per caller (it cannot read the item);
 * - otherwise its top-level conjuncts on claims alone: when one of them is not true, the whole condition is false for
 *   every item (CEL's `&&` is true only when every operand is true). Each such conjunct is parsed and type-checked on
 *   its own, as the whole condition was, so it evaluates as it does in place; one that does not check alone is not
 *   used. Not for conditions that read arguments: listing judges those in three-valued logic, where a conjunct's `!`
 *   or `||` over an error can come out otherwise. Nor for conditions that name their exact items: they are
 *   evaluated for those items only, where a separate look at the claims would save nothing.
 */
function callerPart(whole: Evaluator, conjuncts: readonly ASTNode[], evaluatedInFull: boolean): CelCondition["forCaller"] {
  // Testing names or reading arguments means mentioning `mcp`: nothing to look for.
  if (evaluatedInFull) return undefined;
  const onClaims = conjuncts.filter((conjunct) => !mentionsItem(conjunct));
  if (onClaims.length === conjuncts.length) return (identity) => safely(whole, { mcp: {}, jwt: identity.claims });
  if (onClaims.length === 0) return undefined;
  // Parsed when first asked, not when the policy loads: loading stays as fast as it was, and rules never reached
  // (another kind of item, an earlier rule deciding) cost nothing.
  let parts: Evaluator[] | undefined;
  return (identity) => {
    parts ??= onClaims.flatMap((conjunct) => {
      const part = cel.parse(serialize(conjunct));
      return part.check().valid ? [part] : [];
    });
    const variables = { mcp: {}, jwt: identity.claims };
    return parts.every((part) => safely(part, variables)) ? undefined : false;
  };
}
