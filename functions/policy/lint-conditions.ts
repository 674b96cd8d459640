/**
 * Lint of CEL rules and documents whose effect is silently other than it reads:
 *
 * - a `require` rule that reads one kind of item (`mcp.tool.name != "wipe"`) is an evaluation error, so false, for
 *   every other kind: it denies every prompt and resource, which a deny rule would not have;
 * - given the backend's tools, a rule that names tools the backend does not have (`mcp.tool.name == "delte_all"`):
 *   an allow that grants nothing, or a deny that stops nothing (a typo that fails open);
 * - a document in dry run: its rules are logged, never enforced, so none of its denies stops anything.
 */
import type { ASTNode } from "@marcbachmann/cel-js";
import { couldHoldForAnyone, itemKindsRead } from "./cel-condition.js";
import type { NamedPolicyDocument } from "./document.js";
import { documentGrants } from "./document-grants.js";
import type { ItemRef } from "./rule-scope.js";
import type { ItemKind } from "./types.js";

export interface LintedRule {
  origin: string;
  effect: "allow" | "deny" | "require";
  ast: ASTNode;
  /** The items the rule can hold for (compile's appliesTo), when its shape tells. */
  appliesTo: readonly ItemRef[] | undefined;
}

export interface RuleFinding {
  origin: string;
  message: string;
}

const KINDS: readonly ItemKind[] = ["tool", "prompt", "resource"];

/** Require rules that hold for no item of a kind they never read (and so deny every one of them). */
export function requiresDenyingOtherKinds(rules: readonly LintedRule[]): RuleFinding[] {
  return rules.flatMap((rule) => {
    if (rule.effect !== "require") return [];
    const read = new Set(itemKindsRead(rule.ast));
    if (read.size === 0) return [];
    const denied = KINDS.filter((kind) => !read.has(kind) && !couldHoldForAnyone(rule.ast, { kind, name: "x" }));
    // A require that holds for no item at all is reported as never holding (lint.ts).
    if (denied.length === 0 || denied.length === KINDS.length) return [];
    const kinds = denied.map((kind) => `${kind}s`).join(" and ");
    const guard = [...read].map((kind) => `!has(mcp.${kind})`).join(" || ");
    return [
      {
        origin: rule.origin,
        message: `denies every ${denied.join(" and every ")}: it reads ${[...read].map((kind) => `mcp.${kind}`).join(" and ")}, which ${kinds} do not have, and an evaluation error counts as false (write ${guard} || ... to require it of ${[...read].map((kind) => `${kind}s`).join(" and ")} only)`,
      },
    ];
  });
}

/**
 * Rules naming tools (exactly, or by a prefix) that the backend does not have. `missingFrom` says whose tools
 * `tools` are, as the end of "which ...": "the backend does not have" (one backend), "no server has" (several).
 */
export function rulesNamingUnknownTools(rules: readonly LintedRule[], tools: readonly string[], missingFrom: string): RuleFinding[] {
  const known = new Set(tools);
  return rules.flatMap((rule) => {
    const refs = (rule.appliesTo ?? []).filter((ref) => ref.kind === "tool");
    const missing = refs.flatMap((ref) => {
      if (ref.name !== undefined) return known.has(ref.name) ? [] : [`tool ${JSON.stringify(ref.name)}`];
      if (ref.prefix !== undefined && ref.prefix !== "") return tools.some((tool) => tool.startsWith(ref.prefix!)) ? [] : [`tools whose names start with ${JSON.stringify(ref.prefix)}`];
      return [];
    });
    if (missing.length === 0) return [];
    // Only when every tool it is about is missing does the rule do nothing at all.
    const nothing = missing.length < refs.length ? "" : rule.effect === "deny" ? ", so it denies nothing" : rule.effect === "allow" ? ", so it allows nothing" : "";
    return [{ origin: rule.origin, message: `is about ${missing.join(" and ")}, which ${missingFrom}${nothing}` }];
  });
}

/** Documents marked dryRun: nothing in them is enforced. */
export function documentsInDryRun(documents: readonly NamedPolicyDocument[]): RuleFinding[] {
  return documents
    .filter(({ origin, document }) => document.dryRun === true && (document.rules.length > 0 || documentGrants(origin, document).length > 0))
    .map(({ origin }) => ({
      origin: `${origin} dryRun`,
      message: "is true: the document's grants and rules are logged as they would decide, and never enforced (none of its deny rules stops anything); remove dryRun to enforce it",
    }));
}
