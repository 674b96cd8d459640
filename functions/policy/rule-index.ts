/**
 * A policy's rules looked up by the items they concern, built once per policy load. Judging a list of 1,000 tools
 * against 200 rules one rule at a time is 200,000 evaluations; most rules name the one tool they are about, or a
 * family of tools by a name prefix (`search_*`, `.startsWith("db_")`), so an item needs only the rules filed under its
 * exact name and under the prefixes of its name, plus those that may hold for any name (rules on claims, `require`
 * rules, `*_docs`). Everything is kept by position in the policy, so a decision still finds the first rule in
 * document order that decides, and names the same rule as evaluating all of them would.
 */
import type { ItemRef } from "./rule-scope.js";
import type { ItemKind } from "./types.js";

/** What the index needs of a compiled rule (compile.ts's IndexedRule): its effect and the items it can concern. */
export interface IndexedRule {
  effect: "allow" | "deny" | "require";
  appliesTo?: readonly ItemRef[];
}

/** Positions (in the policy's rule list, ascending) of the rules that may stop an item and that may allow it. */
export interface RulePositions {
  /** `deny` and `require` rules. */
  stops: readonly number[];
  allows: readonly number[];
}

/** Rules filed under name prefixes, and the lengths of those prefixes (ascending), to look a name's prefixes up. */
export interface PrefixIndex {
  lengths: readonly number[];
  byPrefix: ReadonlyMap<string, RulePositions>;
}

export interface RuleIndex {
  /** Per kind, the rules that hold for no item but those they name, filed under each exact name they name. */
  named: Readonly<Record<ItemKind, ReadonlyMap<string, RulePositions>>>;
  /** Per kind, the rules that hold only for names starting with a prefix (never empty), filed under it. */
  prefixed: Readonly<Record<ItemKind, PrefixIndex>>;
  /** Per kind, the rules that may hold for any item of that kind: they are judged for every one. */
  anyName: Readonly<Record<ItemKind, RulePositions>>;
  /** Whether the policy has any allow rule (without one, a policy of deny/require rules is a deny-list). */
  hasAllowRule: boolean;
}

const KINDS: readonly ItemKind[] = ["tool", "prompt", "resource"];

interface Building {
  stops: number[];
  allows: number[];
}

function add(positions: Building, rule: IndexedRule, position: number): void {
  const list = rule.effect === "allow" ? positions.allows : positions.stops;
  // A rule naming the same item twice (`in ["a", "a"]`) is filed once.
  if (list[list.length - 1] !== position) list.push(position);
}

function fileUnder(map: Map<string, Building>, key: string, rule: IndexedRule, position: number): void {
  let positions = map.get(key);
  if (!positions) map.set(key, (positions = { stops: [], allows: [] }));
  add(positions, rule, position);
}

const perKind = <T>(make: () => T): Record<ItemKind, T> => ({ tool: make(), prompt: make(), resource: make() });

export function indexRules(rules: readonly IndexedRule[]): RuleIndex {
  const named = perKind(() => new Map<string, Building>());
  const prefixed = perKind(() => new Map<string, Building>());
  const anyName = perKind<Building>(() => ({ stops: [], allows: [] }));
  rules.forEach((rule, position) => {
    // A require rule that cannot hold for an item stops that item: it concerns every item, whatever it names.
    const items = rule.effect === "require" ? undefined : rule.appliesTo;
    if (items === undefined) {
      for (const kind of KINDS) add(anyName[kind], rule, position);
      return;
    }
    for (const { kind, name, prefix } of items) {
      if (name !== undefined) fileUnder(named[kind], name, rule, position);
      else if (prefix) fileUnder(prefixed[kind], prefix, rule, position);
      else add(anyName[kind], rule, position);
    }
  });
  const prefixIndex = (byPrefix: Map<string, Building>): PrefixIndex => ({
    lengths: [...new Set([...byPrefix.keys()].map((prefix) => prefix.length))].sort((a, b) => a - b),
    byPrefix,
  });
  return {
    named,
    prefixed: { tool: prefixIndex(prefixed.tool), prompt: prefixIndex(prefixed.prompt), resource: prefixIndex(prefixed.resource) },
    anyName,
    hasAllowRule: rules.some((rule) => rule.effect === "allow"),
  };
}
