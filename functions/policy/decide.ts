/**
 * The policy decision: pure, no I/O. Combination follows agentgateway's mcpAuthorization semantics, except that a
 * policy with no rules at all denies everything (agentgateway allows everything; we fail closed):
 *
 * 1. any `deny` rule that holds denies;
 * 2. every `require` rule must hold;
 * 3. any `allow` rule (native grants are allow rules) that holds allows;
 * 4. a policy with deny/require rules but no allow rule allows what they did not stop (a deny-list);
 * 5. otherwise: denied by default.
 *
 * Resources are judged by resource-decision.ts: a URI with control characters, whitespace, backslashes or dot
 * segments is denied before any rule (resource-uri.ts), and the rules are applied to every reading a backend may make
 * of the URI (as sent, WHATWG-normalised, percent-decoded, and the two in either order: resource-readings.ts), each
 * judged as an item of its own; it is allowed only when every reading is.
 *
 * A listed tool has no arguments yet, so a condition on arguments may be "unknown": the tool is listed when some
 * arguments could get it allowed (an allow that may hold, no deny that surely holds, no require that surely fails).
 * Each call is then judged on its real arguments.
 */
import { celVariables, type CelVariables } from "./cel-condition.js";
import type { CompiledPolicy, CompiledRule, Truth } from "./compile.js";
import type { RulePositions } from "./rule-index.js";
import { decideResource } from "./resource-decision.js";
import type { Decision, Identity, ItemKind, PolicyItem } from "./types.js";

/** Decisions for one caller, item after item (a list, a batch): what depends on the caller alone is worked out once. */
export type Decider = (item: PolicyItem) => Decision;

/** A rule's value that depends on the item (as opposed to true or false for every item of this caller). */
const PER_ITEM = "per item";

/**
 * Only the rules that concern the item are evaluated (policy/rule-index.ts): the rules filed under its exact name,
 * under the prefixes of its name, and those that may hold for any name, merged in document order. A rule left out is
 * false for the item, so it could not have denied it (deny), allowed it (allow) or been reported; `require` rules are
 * never left out. The outcome, the deciding rule and the explanation are exactly those of evaluating every rule in
 * order (test/property/indexed-decisions.test.ts).
 */
export function decider(policy: CompiledPolicy, identity: Identity): Decider {
  const { rules, index } = policy;
  // Per rule: its value for this caller when the same for every item, PER_ITEM when it depends on the item,
  // undefined until first needed (a single call never pays for rules about other items).
  const forCaller: Array<boolean | typeof PER_ITEM | undefined> = new Array(rules.length);

  function known(position: number): boolean | typeof PER_ITEM {
    return (forCaller[position] ??= rules[position]!.forCaller?.(identity) ?? PER_ITEM);
  }

  function value(position: number, item: PolicyItem, variables: CelVariables): Truth {
    const constant = known(position);
    return constant === PER_ITEM ? rules[position]!.holds(identity, item, variables) : constant;
  }

  /**
   * The rules of a kind that may hold for any name, less those that cannot decide anything for this caller (a grant
   * to roles it lacks, a deny on claims it does not have, a require it meets), worked out at its first item of that
   * kind: a list is then judged against the few rules left.
   */
  const anyNameForCaller: Partial<Record<ItemKind, RulePositions>> = {};
  function anyName(kind: ItemKind): RulePositions {
    const all = index.anyName[kind];
    return (anyNameForCaller[kind] ??= {
      stops: all.stops.filter((position) => known(position) !== (rules[position]!.effect === "deny" ? false : true)),
      allows: all.allows.filter((position) => known(position) !== false),
    });
  }

  /** Whether the rule at `position` decides: a deny that holds, a require that fails, or an allow that may hold. */
  function decides(position: number, item: PolicyItem, variables: CelVariables): boolean {
    const holds = value(position, item, variables);
    const effect = rules[position]!.effect;
    return effect === "deny" ? holds === true : effect === "require" ? holds === false : holds !== false;
  }

  /** The rules that concern the item: filed under its exact name, under prefixes of its name, and for any name. */
  function concerning(item: PolicyItem): RulePositions[] {
    const lists: RulePositions[] = [];
    const named = index.named[item.kind].get(item.name);
    if (named) lists.push(named);
    const { lengths, byPrefix } = index.prefixed[item.kind];
    for (const length of lengths) {
      if (length > item.name.length) break;
      const prefixed = byPrefix.get(item.name.slice(0, length));
      if (prefixed) lists.push(prefixed);
    }
    lists.push(anyName(item.kind));
    return lists;
  }

  /** The first rule, in document order across the lists (each ascending), that decides. */
  function first(lists: readonly (readonly number[])[], item: PolicyItem, variables: CelVariables): CompiledRule | undefined {
    const next = lists.map(() => 0);
    for (;;) {
      let from = -1;
      for (let l = 0; l < lists.length; l++) {
        if (next[l]! < lists[l]!.length && (from < 0 || lists[l]![next[l]!]! < lists[from]![next[from]!]!)) from = l;
      }
      if (from < 0) return undefined;
      const position = lists[from]![next[from]!++]!;
      if (decides(position, item, variables)) return rules[position];
    }
  }

  /** The policy's decision for the item exactly as named (for a resource: one reading of its URI). */
  function byRules(item: PolicyItem): Decision {
    if (rules.length === 0) {
      return { allowed: false, rule: undefined, explanation: "the policy has no rules, so nothing is allowed" };
    }
    const variables = celVariables(identity, item);
    const lists = concerning(item);
    const stop = first(lists.map((list) => list.stops), item, variables);
    if (stop?.effect === "deny") return { allowed: false, rule: stop.origin, explanation: `denied by ${stop.origin}` };
    if (stop) return { allowed: false, rule: stop.origin, explanation: `required condition ${stop.origin} does not hold` };
    if (!index.hasAllowRule) {
      return { allowed: true, rule: undefined, explanation: "no deny or require rule stopped it, and the policy has no allow rules" };
    }
    const allowing = first(lists.map((list) => list.allows), item, variables);
    if (allowing) return { allowed: true, rule: allowing.origin, explanation: `allowed by ${allowing.origin}` };
    return { allowed: false, rule: undefined, explanation: "no rule allows it (default deny)" };
  }

  return (item) => (item.kind === "resource" ? decideResource(item, byRules) : byRules(item));
}

/** One decision; for many items of one caller, `decider` works out the caller's part once. */
export function decide(policy: CompiledPolicy, identity: Identity, item: PolicyItem): Decision {
  return decider(policy, identity)(item);
}
