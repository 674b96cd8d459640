/**
 * Compiles policy documents into rules that can be evaluated many times: glob patterns become regular expressions
 * and CEL expressions are parsed and type-checked once per policy load, never per request.
 */
import { Environment } from "@marcbachmann/cel-js";
import { PolicyError } from "../errors.js";
import type { NamedPolicyDocument, PolicyRule } from "./document.js";
import { globToRegExp } from "./glob.js";
import type { Identity, ItemKind, PolicyItem } from "./types.js";

export type Effect = "allow" | "deny" | "require";

export interface CompiledRule {
  effect: Effect;
  /** Where the rule was written, e.g. `walkthrough.yaml rules[0]`. */
  origin: string;
  /** Does the rule's condition hold for this caller and item? An evaluation error counts as false. */
  holds(identity: Identity, item: PolicyItem): boolean;
}

export interface CompiledPolicy {
  rules: readonly CompiledRule[];
  /** Where the documents came from, in merge order. */
  origins: readonly string[];
}

/** The CEL variables a rule may use (agentgateway's names); anything else is refused when the policy loads. */
const cel = new Environment();
cel.registerVariable("mcp", "map");
cel.registerVariable("jwt", "map");

const GRANT_SECTIONS: ReadonlyArray<readonly ["tools" | "prompts" | "resources", ItemKind]> = [
  ["tools", "tool"],
  ["prompts", "prompt"],
  ["resources", "resource"],
];

/** Roles that match any authenticated caller in the native form. */
const ANY_ROLE = "*";

function compileGrant(origin: string, kind: ItemKind, pattern: string, roles: readonly string[]): CompiledRule {
  const matchesName = globToRegExp(pattern);
  const anyone = roles.includes(ANY_ROLE);
  const allowed = new Set(roles);
  return {
    effect: "allow",
    origin,
    holds: (identity, item) =>
      item.kind === kind && matchesName.test(item.name) && (anyone || identity.roles.some((role) => allowed.has(role))),
  };
}

/** The `mcp` variable for one item, shaped as agentgateway shapes it (`mcp.tool.name`, `mcp.resource.name`, ...). */
export function celVariables(identity: Identity, item: PolicyItem): Record<string, unknown> {
  const described = item.kind === "resource" ? { name: item.name, uri: item.name } : { name: item.name };
  return { mcp: { [item.kind]: described }, jwt: identity.claims };
}

function compileCelRule(origin: string, rule: PolicyRule): CompiledRule {
  let evaluate: ReturnType<typeof cel.parse>;
  try {
    evaluate = cel.parse(rule.expression);
  } catch (err) {
    throw new PolicyError(`${origin}: CEL does not parse: ${firstLine(err)}`, { cause: err });
  }
  const check = evaluate.check();
  if (!check.valid) {
    throw new PolicyError(`${origin}: CEL is not valid here (only mcp.* and jwt.* are available): ${firstLine(check.error)}`);
  }
  if (check.type !== "bool" && check.type !== "dyn") {
    throw new PolicyError(`${origin}: a rule must be a boolean condition, but this one gives ${check.type}`);
  }
  return {
    effect: rule.effect,
    origin,
    holds(identity, item) {
      try {
        return evaluate(celVariables(identity, item)) === true;
      } catch {
        // agentgateway semantics: an evaluation error (a missing claim, a different item kind) counts as false.
        return false;
      }
    },
  };
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0] ?? message;
}

/** Merges and compiles documents; throws PolicyError naming the document and the rule that is wrong. */
export function compilePolicy(documents: readonly NamedPolicyDocument[]): CompiledPolicy {
  const rules: CompiledRule[] = [];
  for (const { origin, document } of documents) {
    for (const [section, kind] of GRANT_SECTIONS) {
      for (const [pattern, roles] of Object.entries(document[section] ?? {})) {
        rules.push(compileGrant(`${origin} ${section}.${pattern}`, kind, pattern, roles));
      }
    }
    document.rules.forEach((rule, index) => rules.push(compileCelRule(`${origin} rules[${index}]`, rule)));
  }
  return { rules, origins: documents.map((d) => d.origin) };
}
