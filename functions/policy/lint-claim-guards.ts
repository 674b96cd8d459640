/**
 * Lint of deny rules that fail open on a missing claim: `deny: '!("admin" in jwt.roles)'` is an evaluation error for
 * a token without `roles` (or with a single string where a list was expected), an error counts as false, and so the
 * deny never holds for exactly the tokens it was meant to stop. A read of `jwt.<claim>` is reported when nothing
 * guards it (`has(jwt.roles)`, `"roles" in jwt`) and the test it is part of would hold for a missing claim if it were
 * not an error (a negated `in`, a `!=`, or a test whose value for a missing claim cannot be told, such as `<`).
 * A positive `jwt.sub == "mallory"` or `"contractor" in jwt.groups` is not: a missing claim is no match there anyway.
 * Allow rules are not linted (an error there is a safe false), nor require rules (an error there denies).
 */
import { serialize, type ASTNode } from "@marcbachmann/cel-js";
import { children } from "./rule-scope.js";

/** One unguarded read: the claim path as written, where it starts in the condition, and how to guard it. */
export interface UnguardedClaim {
  /** `jwt.roles`, `jwt.realm_access.roles`. */
  claim: string;
  /** The tests missing for it: `has(jwt.roles)`, `"mcp-gateway" in jwt.resource_access`. */
  guards: string[];
  /** Offset of the read in the condition's text (0-based). */
  offset: number;
  /** The part of the condition to write in place of the test, guarded: `!has(jwt.roles) || !("admin" in jwt.roles)`. */
  guarded: string;
}

/** A path of constant steps from `jwt` (`jwt.a`, `jwt["a"].b`), or undefined when `node` is none. */
function claimPath(node: ASTNode): string[] | undefined {
  if (node.op === "id") return node.args === "jwt" ? [] : undefined;
  if (node.op !== "." && node.op !== "[]") return undefined;
  const [base, key] = node.args as [ASTNode, unknown];
  const step = node.op === "." ? key : (key as ASTNode).op === "value" && typeof (key as ASTNode).args === "string" ? (key as ASTNode).args : undefined;
  const prefix = typeof step === "string" ? claimPath(base) : undefined;
  return prefix && [...prefix, step as string];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function pathText(path: readonly string[]): string {
  return path.reduce((text, step) => (IDENTIFIER.test(step) ? `${text}.${step}` : `${text}[${JSON.stringify(step)}]`), "jwt");
}

const same = (a: readonly string[] | undefined, b: readonly string[]) => a !== undefined && a.length === b.length && a.every((step, i) => step === b[i]);

/** A test that is false (never an error) when the last step of `path` is missing: `has(jwt.a)`, `"a" in jwt`. */
function isPresenceTest(node: ASTNode, path: readonly string[]): boolean {
  const args = node.args as unknown[];
  if (node.op === "call" && args[0] === "has") return same(claimPath((args[1] as ASTNode[])[0]!), path);
  if (node.op === "in") {
    const [key, container] = args as [ASTNode, ASTNode];
    return key.op === "value" && key.args === path.at(-1) && same(claimPath(container), path.slice(0, -1));
  }
  return false;
}

/**
 * The value `node` has for sure when the last step of `path` is missing (its prefix present): false for
 * `has(jwt.a)` and `"a" in jwt`, combined through `!`, `&&` and `||` as CEL combines them (an error on one side of
 * `&&` does not matter when the other is false); undefined when it cannot be told.
 */
function valueWhenMissing(node: ASTNode, path: readonly string[]): boolean | undefined {
  if (node.op === "!_") {
    const inner = valueWhenMissing(node.args as ASTNode, path);
    return inner === undefined ? undefined : !inner;
  }
  if (node.op === "&&" || node.op === "||") {
    const decisive = node.op === "||";
    const values = (node.args as [ASTNode, ASTNode]).map((side) => valueWhenMissing(side, path));
    if (values.includes(decisive)) return decisive;
    return values.every((value) => value === !decisive) ? !decisive : undefined;
  }
  return isPresenceTest(node, path) ? false : undefined;
}

/** Tests that are false for a missing value, were they not an error: what a missing claim means to them anyway. */
const FALSE_WHEN_MISSING_METHODS = new Set(["startsWith", "endsWith", "contains", "matches", "exists", "exists_one"]);

/**
 * How the test `atom` (a part of the condition that is not `&&`, `||` or `!`) would come out for a missing value at
 * `read`, were it not an error: false (`==`, `in`, `has()`, `.startsWith()`, the claim itself), true (`!=`), or
 * unknown.
 */
function missingMeans(atom: ASTNode, read: ASTNode): boolean | undefined {
  // A claim read as the test itself (`jwt.suspended`): a missing one is not true.
  if (atom === read) return false;
  const args = atom.args as unknown[];
  if ((atom.op === "==" || atom.op === "in") && args.includes(read)) return false;
  if (atom.op === "!=" && args.includes(read)) return true;
  if (atom.op === "call" && args[0] === "has" && (args[1] as ASTNode[])[0] === read) return false;
  if (atom.op === "rcall" && args[1] === read && FALSE_WHEN_MISSING_METHODS.has(args[0] as string)) return false;
  return undefined;
}

interface Frame {
  node: ASTNode;
  /** The child of `node` on the way down. */
  via: ASTNode;
}

/** The unguarded claim reads of a deny rule's condition, whose error makes the deny not hold where it should. */
export function unguardedClaimReads(condition: ASTNode): UnguardedClaim[] {
  const found: UnguardedClaim[] = [];
  const visit = (node: ASTNode, above: readonly Frame[]) => {
    const path = claimPath(node);
    if (path !== undefined && path.length > 0) {
      report(node, path, above);
      return;
    }
    for (const child of children(node)) visit(child, [...above, { node, via: child }]);
  };
  const report = (read: ASTNode, path: readonly string[], above: readonly Frame[]) => {
    // The test the read is part of: the first frame below the logical structure (`&&`, `||`, `!`, a ternary's branches).
    let negations = 0;
    let polarityKnown = true;
    let atomAt = above.length;
    for (const [index, { node, via }] of above.entries()) {
      if (node.op === "!_") negations++;
      else if (node.op === "?:" && via === (node.args as ASTNode[])[0]) polarityKnown = false;
      else if (node.op !== "&&" && node.op !== "||" && node.op !== "?:") {
        atomAt = index;
        break;
      }
    }
    const atom = above[atomAt]?.node ?? read;
    const meaning = missingMeans(atom, read);
    // What the test would say for a missing claim, through the negations above it, were it not an error: when that is
    // false, the error loses nothing (a missing `sub` is not "mallory" either).
    if (polarityKnown && meaning !== undefined && (negations % 2 === 0 ? meaning : !meaning) === false) return;
    // Each step of the path is an error when missing (`has(jwt.a.b)` reads `jwt.a` only), unless something guards it.
    const steps = atom.op === "call" && (atom.args as unknown[])[0] === "has" ? path.length - 1 : path.length;
    const unguarded: string[][] = [];
    for (let length = 1; length <= steps; length++) {
      const prefix = path.slice(0, length);
      // A frame guards the read when, for a missing step, its other side decides it whatever the read gives.
      const guarded = above.slice(0, atomAt).some(({ node, via }) => {
        if (node.op !== "&&" && node.op !== "||" && node.op !== "?:") return false;
        const args = node.args as ASTNode[];
        if (node.op === "?:") return via !== args[0] && valueWhenMissing(args[0]!, prefix) === (via === args[2]);
        const other = args.find((arg) => arg !== via)!;
        return valueWhenMissing(other, prefix) === (node.op === "||");
      });
      if (!guarded) unguarded.push(prefix);
    }
    if (unguarded.length === 0) return;
    // The part to guard: the innermost `!` above the test when the test is negated, else the test itself.
    const innermostNot = [...above.slice(0, atomAt)].reverse().find(({ node }) => node.op === "!_")?.node;
    const part = negations % 2 === 1 && innermostNot ? innermostNot : atom;
    // has() takes field selections only (not `["mcp-gateway"]`): past an index, `"roles" in ...` says the same.
    const guards = unguarded.map((prefix) =>
      prefix.every((step) => IDENTIFIER.test(step)) ? `has(${pathText(prefix)})` : `${JSON.stringify(prefix.at(-1))} in ${pathText(prefix.slice(0, -1))}`,
    );
    const text = [...guards.map((guard) => (guard.startsWith("has(") ? `!${guard}` : `!(${guard})`)), serialize(part)].join(" || ");
    found.push({ claim: pathText(path.slice(0, steps)), offset: read.start ?? 0, guards, guarded: part === condition ? text : `(${text})` });
  };
  visit(condition, []);
  return found;
}
