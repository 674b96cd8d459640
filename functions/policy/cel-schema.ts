/**
 * The CEL variables the gateway provides to a policy rule, and the type check of a condition against them.
 *
 * What celVariables (cel-condition.ts) binds, and so all a condition can read:
 * - `mcp.tool.name`, and `mcp.tool.arguments` (a tool call's arguments, free-form: any `mcp.tool.arguments.<name>`);
 * - `mcp.prompt.name`;
 * - `mcp.resource.name` and `mcp.resource.uri` (both the URI, or a template's uriTemplate);
 * - `mcp.<kind>.target`: the name of the server the item belongs to, as agentgateway names it (unset for an item of
 *   no server, such as `policy explain` without `--server`: reading it is then an evaluation error, so false);
 * - `jwt`: the token's claims, free-form (`jwt.<claim>`, nested claims, `jwt["https://..."]`).
 * Only the item being judged is set under `mcp`, so a read of another kind is an evaluation error, which counts as
 * false. A read of a field that does not exist (`mcp.tool.nme`) or of a variable that does not (`mpc.tool.name`)
 * would be one for every item, silently: in a deny rule the rule never holds, so the policy fails open. The check
 * refuses them when the policy loads, with the place in the condition.
 *
 * cel-js's Environment type-checks against declared types: `mcp` is declared as an object type with exactly these
 * fields, `jwt` and `mcp.tool.arguments` as maps of anything. The check environment only checks; conditions are
 * still evaluated with untyped maps (cel-condition.ts), so evaluation is what it always was. `has()` is not checked
 * by cel-js beyond its variable, so its argument is checked here against the same fields.
 */
import { Environment, serialize, type ASTNode } from "@marcbachmann/cel-js";
import { children } from "./rule-scope.js";
import type { ItemKind } from "./types.js";

/** A field the gateway binds: its CEL type, or an object of known fields. Free-form values are `map<string, dyn>`. */
type Field = { type: string } | { fields: Readonly<Record<string, Field>> };

const STRING: Field = { type: "string" };
const FREE_FORM: Field = { type: "map<string, dyn>" };

/** The fields under `mcp.<kind>`, per kind. */
export const ITEM_FIELDS: Readonly<Record<ItemKind, Readonly<Record<string, Field>>>> = {
  tool: { name: STRING, target: STRING, arguments: FREE_FORM },
  prompt: { name: STRING, target: STRING },
  resource: { name: STRING, uri: STRING, target: STRING },
};

const KINDS: readonly ItemKind[] = ["tool", "prompt", "resource"];

/** The variables a condition may read; `mcp` holds the kinds in scope (every kind, or the one of a grant's section). */
function variables(kinds: readonly ItemKind[]): Readonly<Record<string, Field>> {
  return { mcp: { fields: Object.fromEntries(kinds.map((kind) => [kind, { fields: ITEM_FIELDS[kind] }])) }, jwt: FREE_FORM };
}

/** A condition's type, or what is wrong with it and where (an offset into the condition). */
export type CelCheck = { valid: true; type: string } | { valid: false; message: string; offset: number | undefined };

/** A path of constant selections (`mcp.tool.name`, `mcp["tool"]["name"]`): the variable, then each key. */
function selectionPath(node: ASTNode): string[] | undefined {
  if (node.op === "id") return [node.args];
  if (node.op !== "." && node.op !== "[]") return undefined;
  const [base, key] = node.args as [ASTNode, unknown];
  const name = node.op === "." ? (key as string) : (key as ASTNode).op === "value" && typeof (key as ASTNode).args === "string" ? ((key as ASTNode).args as string) : undefined;
  const head = selectionPath(base);
  return head && name !== undefined ? [...head, name] : undefined;
}

/** Where the selected key is written: the field name after `.`, or the literal inside `[]`. */
function keyOffset(node: ASTNode): number {
  const key = (node.args as unknown[])[1];
  if (node.op === "[]") return (key as ASTNode).start;
  // `base.field`: the field ends the node.
  return node.end - String(key).length;
}

function fieldList(fields: Readonly<Record<string, Field>>): string {
  return Object.keys(fields).join(", ");
}

/**
 * What is wrong with reading `path` (variable first), or undefined when the variables in scope have it (or it goes
 * into free-form values, where anything may be).
 */
function unknownField(path: readonly string[], scope: Readonly<Record<string, Field>>, kinds: readonly ItemKind[]): string | undefined {
  let fields: Readonly<Record<string, Field>> = scope;
  for (let depth = 0; depth < path.length; depth++) {
    const key = path[depth]!;
    const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (field === undefined) {
      if (depth === 0) return `unknown variable ${key} (the gateway provides mcp and jwt)`;
      const owner = path.slice(0, depth).join(".");
      if (depth === 1 && KINDS.includes(key as ItemKind)) {
        return `${owner}.${key} is never set here: the item is a ${kinds.join(" or ")}, so mcp has only ${fieldList(fields)}`;
      }
      return `${owner} has no field ${key} (its fields: ${fieldList(fields)})`;
    }
    if (!("fields" in field)) return undefined;
    fields = field.fields;
  }
  return undefined;
}

/** `has(x.f)` arguments whose path the variables in scope do not have: cel-js checks only their variable. */
function uncheckedHas(node: ASTNode, scope: Readonly<Record<string, Field>>, kinds: readonly ItemKind[]): CelCheck | undefined {
  if (node.op === "call" && node.args[0] === "has" && node.args[1].length === 1) {
    const argument = node.args[1][0]!;
    const path = selectionPath(argument);
    const problem = path && unknownField(path, scope, kinds);
    if (problem) return { valid: false, message: problem, offset: keyOffset(argument) };
  }
  for (const child of children(node)) {
    const found = uncheckedHas(child, scope, kinds);
    if (found) return found;
  }
  return undefined;
}

/** cel-js's type names for the object types of `variables`, registered once per environment. */
function register(environment: Environment, scope: Readonly<Record<string, Field>>, kinds: readonly ItemKind[]): void {
  const suffix = kinds.length === KINDS.length ? "" : `_${kinds.join("_")}`;
  const typeOf = (name: string, field: Field): string => {
    if (!("fields" in field)) return field.type;
    const typeName = `Gateway_${name}${suffix}`;
    const fields = Object.fromEntries(Object.entries(field.fields).map(([key, inner]) => [key, typeOf(`${name}_${key}`, inner)]));
    environment.registerType(typeName, { fields });
    return typeName;
  };
  for (const [name, field] of Object.entries(scope)) environment.registerVariable(name, typeOf(name, field));
}

interface Checker {
  environment: Environment;
  scope: Readonly<Record<string, Field>>;
  kinds: readonly ItemKind[];
}

const checkers = new Map<string, Checker>();

/** The check environment for conditions that may see these kinds, built when first needed. */
function checkerFor(kinds: readonly ItemKind[]): Checker {
  const key = kinds.join(",");
  let checker = checkers.get(key);
  if (!checker) {
    const scope = variables(kinds);
    const environment = new Environment();
    register(environment, scope, kinds);
    checkers.set(key, (checker = { environment, scope, kinds }));
  }
  return checker;
}

/**
 * Type-checks a condition that parses against the variables the gateway provides. `kind` narrows `mcp` to one kind
 * (a grant's `when`: its section's items are all of that kind); without it every kind may be the one set.
 */
export function checkCel(expression: string, kind?: ItemKind): CelCheck {
  const checker = checkerFor(kind === undefined ? KINDS : [kind]);
  const result = checker.environment.check(expression);
  if (!result.valid) {
    const error = result.error as (Error & { code?: string; node?: ASTNode; range?: { start: number } }) | undefined;
    const node = error?.node;
    if (node && (error.code === "no_such_key" || error.code === "unknown_variable")) {
      const path = selectionPath(node);
      // A read under a variable of the condition's own making (a macro's) is left to cel-js's wording below.
      const ours = path !== undefined && (error.code === "unknown_variable" || Object.hasOwn(checker.scope, path[0]!));
      const problem = ours && unknownField(path, checker.scope, checker.kinds);
      if (problem) return { valid: false, message: problem, offset: node.op === "id" ? node.start : keyOffset(node) };
      // A key of a value of the condition's own making (a macro's variable): cel-js's wording, with what it read.
      return { valid: false, message: `${serialize(node)}: ${firstLine(error)}`, offset: error.range?.start };
    }
    return { valid: false, message: firstLine(error), offset: error?.range?.start };
  }
  const parsed = checker.environment.parse(expression);
  return uncheckedHas(parsed.ast, checker.scope, checker.kinds) ?? { valid: true, type: result.type ?? "dyn" };
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0] ?? message;
}
