/**
 * Compiles policy documents into rules that can be evaluated many times: glob patterns and URI templates become
 * regular expressions and CEL conditions are parsed and type-checked once per policy load, never per request.
 */
import { PolicyError } from "../errors.js";
import type { NamedPolicyDocument } from "./document.js";
import { documentGrants, type DocumentGrant } from "./document-grants.js";
import { CelConditionError, compileCelCondition, type CelCondition, type CelVariables, type Truth } from "./cel-condition.js";
import { grantPattern } from "./grant-pattern.js";
import { indexRules, type RuleIndex } from "./rule-index.js";
import { compilePins, type PinSet } from "../pins/pin-set.js";
import type { ItemRef } from "./rule-scope.js";
import type { Identity, PolicyItem } from "./types.js";
import { atPosition, type DocumentPlace } from "./yaml-position.js";

export type { Truth };

export type Effect = "allow" | "deny" | "require";

export interface CompiledRule {
  effect: Effect;
  /** Where the rule was written, e.g. `walkthrough.yaml rules[0]`. */
  origin: string;
  /**
   * Does the rule's condition hold for this caller and item? An evaluation error counts as false. For a listed tool
   * (no arguments yet) a condition on arguments gives "unknown". `variables`, when given, must be
   * `celVariables(identity, item)` (built once per item rather than once per rule).
   */
  holds(identity: Identity, item: PolicyItem, variables?: CelVariables): Truth;
  /**
   * The only items the condition can hold for (false for every other): a kind, with an exact name when the rule names
   * one (a native grant without glob characters, a CEL test `mcp.tool.name == "..."`) or a name prefix (the text
   * before a glob's first `*` or `?`, a CEL `.startsWith("...")`). Undefined: any item.
   */
  appliesTo?: readonly ItemRef[];
  /**
   * The rule's value for this caller when it is the same for every item (a grant to roles the caller lacks, a
   * condition on claims only), undefined when it depends on the item; absent when that can never be told in advance.
   * Lets a list be judged with such rules worked out once per caller.
   */
  forCaller?(identity: Identity): boolean | undefined;
}

export interface CompiledPolicy {
  /** The rules in force (those of documents not in dry run). */
  rules: readonly CompiledRule[];
  /** The same rules, looked up by the items they concern (built once per load, from `rules`). */
  index: RuleIndex;
  /** Where the documents came from, in merge order. */
  origins: readonly string[];
  /** The approved definitions of each pinned server's tools, prompts and templates (pins/pin-set.ts). */
  pins: PinSet;
  /**
   * When some documents are in dry run (`dryRun: true`): the policy as it would be with them enforced too, judged
   * alongside to log and count what would change. Undefined otherwise.
   */
  withDryRun?: CompiledPolicy;
}

/** Roles that match any authenticated caller in the native form. */
const ANY_ROLE = "*";

function compileGrant({ origin, kind, server, pattern, definition: grant }: DocumentGrant): CompiledRule {
  const key = grantPattern(kind, pattern);
  const anyone = grant.roles.includes(ANY_ROLE);
  const allowed = new Set(grant.roles);
  // The grant is judged only for items of its section: its condition sees that kind alone under `mcp`.
  const condition: CelCondition | undefined = grant.when === undefined ? undefined : compileCelCondition(`${origin}.when`, grant.when, kind);
  const hasRole = (identity: Identity) => anyone || identity.roles.some((role) => allowed.has(role));
  return {
    effect: "allow",
    origin,
    holds: (identity, item, variables) => {
      if (item.kind !== kind || !key.matches(item.name, item.template === true)) return false;
      // A server's grant is for its items alone: not another server's, nor an item of no known server.
      if (server !== undefined && item.target !== server) return false;
      if (!hasRole(identity)) return false;
      return condition ? condition.evaluate(identity, item, variables) : true;
    },
    // The key is matched in full above in any case; name and prefix only narrow the lookup.
    appliesTo: [key.appliesTo],
    forCaller: (identity) => (!hasRole(identity) || condition?.forCaller?.(identity) === false ? false : undefined),
  };
}

/**
 * Runs `compile` for one place of a document; a refusal gets the place's line and column in the document's text
 * (and, for a CEL condition, the column of the problem in it).
 */
function atPlace<T>(document: NamedPolicyDocument, placeOf: () => DocumentPlace, origin: string, compile: () => T): T {
  try {
    return compile();
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    const offset = err instanceof CelConditionError ? err.offset : undefined;
    const position = document.locate?.({ ...placeOf(), offset });
    const fallback = position === undefined && offset !== undefined ? ` (column ${offset + 1} of the condition)` : "";
    // A grant key refused by grantPattern names the key only: the origin says where it is.
    const message = err instanceof CelConditionError ? err.message : `${origin}: ${err.message}`;
    throw new PolicyError(`${message}${atPosition(position)}${fallback}`, { cause: err });
  }
}

/** Merges and compiles documents; throws PolicyError naming the document and the rule that is wrong. */
export function compilePolicy(documents: readonly NamedPolicyDocument[]): CompiledPolicy {
  const all = compileRules(documents);
  const origins = documents.map((d) => d.origin);
  const pins = compilePins(documents);
  if (!documents.some((d) => d.document.dryRun)) return { rules: all, origins, pins, index: indexRules(all) };
  const enforced = compileRules(documents.filter((d) => !d.document.dryRun));
  return { rules: enforced, origins, pins, index: indexRules(enforced), withDryRun: { rules: all, origins, pins, index: indexRules(all) } };
}

function compileRules(documents: readonly NamedPolicyDocument[]): CompiledRule[] {
  const rules: CompiledRule[] = [];
  for (const named of documents) {
    const { origin, document } = named;
    for (const grant of documentGrants(origin, document)) {
      const place = () => (grant.definition.when === undefined ? { path: grant.path, key: true } : { path: [...grant.path, "when"] });
      rules.push(atPlace(named, place, grant.origin, () => compileGrant(grant)));
    }
    document.rules.forEach((rule, index) => {
      const ruleOrigin = `${origin} rules[${index}]`;
      // A rule is a CEL string, or an object whose one key (allow, deny, require) holds the string.
      const place = () => {
        const inObject = { path: ["rules", index, rule.effect] };
        return named.locate?.(inObject) ? inObject : { path: ["rules", index] };
      };
      const condition = atPlace(named, place, ruleOrigin, () => compileCelCondition(ruleOrigin, rule.expression));
      rules.push({
        effect: rule.effect,
        origin: ruleOrigin,
        holds: (identity, item, variables) => condition.evaluate(identity, item, variables),
        appliesTo: condition.appliesTo,
        forCaller: condition.forCaller,
      });
    });
  }
  return rules;
}
