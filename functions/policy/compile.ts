/**
 * Compiles policy documents into rules that can be evaluated many times: glob patterns become regular expressions
 * and CEL conditions are parsed and type-checked once per policy load, never per request.
 */
import type { GrantDefinition, NamedPolicyDocument } from "./document.js";
import { compileCelCondition, type CelCondition, type Truth } from "./cel-condition.js";
import { globToRegExp } from "./glob.js";
import type { Identity, ItemKind, PolicyItem } from "./types.js";

export type { Truth };

export type Effect = "allow" | "deny" | "require";

export interface CompiledRule {
  effect: Effect;
  /** Where the rule was written, e.g. `walkthrough.yaml rules[0]`. */
  origin: string;
  /**
   * Does the rule's condition hold for this caller and item? An evaluation error counts as false. For a listed tool
   * (no arguments yet) a condition on arguments gives "unknown".
   */
  holds(identity: Identity, item: PolicyItem): Truth;
}

export interface CompiledPolicy {
  /** The rules in force (those of documents not in dry run). */
  rules: readonly CompiledRule[];
  /** Where the documents came from, in merge order. */
  origins: readonly string[];
  /**
   * When some documents are in dry run (`dryRun: true`): the policy as it would be with them enforced too, judged
   * alongside to log and count what would change. Undefined otherwise.
   */
  withDryRun?: CompiledPolicy;
}

const GRANT_SECTIONS: ReadonlyArray<readonly ["tools" | "prompts" | "resources", ItemKind]> = [
  ["tools", "tool"],
  ["prompts", "prompt"],
  ["resources", "resource"],
];

/** Roles that match any authenticated caller in the native form. */
const ANY_ROLE = "*";

function compileGrant(origin: string, kind: ItemKind, pattern: string, grant: GrantDefinition): CompiledRule {
  const matchesName = globToRegExp(pattern);
  const anyone = grant.roles.includes(ANY_ROLE);
  const allowed = new Set(grant.roles);
  const condition: CelCondition | undefined = grant.when === undefined ? undefined : compileCelCondition(`${origin}.when`, grant.when);
  return {
    effect: "allow",
    origin,
    holds: (identity, item) => {
      if (item.kind !== kind || !matchesName.test(item.name)) return false;
      if (!anyone && !identity.roles.some((role) => allowed.has(role))) return false;
      return condition ? condition.evaluate(identity, item) : true;
    },
  };
}

/** Merges and compiles documents; throws PolicyError naming the document and the rule that is wrong. */
export function compilePolicy(documents: readonly NamedPolicyDocument[]): CompiledPolicy {
  const all = compileRules(documents);
  const origins = documents.map((d) => d.origin);
  if (!documents.some((d) => d.document.dryRun)) return { rules: all, origins };
  const enforced = documents.filter((d) => !d.document.dryRun);
  return { rules: compileRules(enforced), origins, withDryRun: { rules: all, origins } };
}

function compileRules(documents: readonly NamedPolicyDocument[]): CompiledRule[] {
  const rules: CompiledRule[] = [];
  for (const { origin, document } of documents) {
    for (const [section, kind] of GRANT_SECTIONS) {
      for (const [pattern, grant] of Object.entries(document[section] ?? {})) {
        rules.push(compileGrant(`${origin} ${section}.${pattern}`, kind, pattern, grant));
      }
    }
    document.rules.forEach((rule, index) => {
      const ruleOrigin = `${origin} rules[${index}]`;
      const condition = compileCelCondition(ruleOrigin, rule.expression);
      rules.push({ effect: rule.effect, origin: ruleOrigin, holds: (identity, item) => condition.evaluate(identity, item) });
    });
  }
  return rules;
}
