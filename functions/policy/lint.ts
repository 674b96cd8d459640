/**
 * Lint for policy documents that are valid but probably not what their author meant: rules that can never match,
 * grants that can match nothing or grant nothing (lint-grants.ts), grants made redundant by others, claims the tokens
 * do not carry, deny rules that a missing claim keeps from holding (lint-claim-guards.ts), and (given the backend's
 * tool list, or each server's) patterns that match no tool, tools that no rule could ever allow and server sections
 * naming no listed server (lint-tools.ts), and tool pins that match no listed tool (lint-pins.ts). Pure: documents and facts in, findings out.
 */
import { serialize, type ASTNode } from "@marcbachmann/cel-js";
import { celSyntaxTree, claimsRead, compileCelCondition, couldHoldForAnyone, itemKindsRead } from "./cel-condition.js";
import type { NamedPolicyDocument } from "./document.js";
import { documentGrants, type DocumentGrant } from "./document-grants.js";
import { unguardedClaimReads } from "./lint-claim-guards.js";
import { documentsInDryRun, requiresDenyingOtherKinds } from "./lint-conditions.js";
import { grantPattern } from "./grant-pattern.js";
import { grantFindings } from "./lint-grants.js";
import { toolListFindings, unlistedServers, type ToolList } from "./lint-tools.js";
import { unmatchedPins } from "./lint-pins.js";
import type { ItemRef } from "./rule-scope.js";
import type { DocumentPlace, SourcePosition } from "./yaml-position.js";

export interface LintFinding {
  /** Where, e.g. `team.yaml rules[2]` or `team.yaml tools.search_docs`. */
  origin: string;
  message: string;
  /** Where in its document's text, when known: the grant's key (or roles), the rule's condition. */
  position?: SourcePosition;
}

export interface LintFacts {
  /** Claim names the tokens carry (from a sample token or a list); enables the claim check. */
  claims?: readonly string[];
  /** The claim roles are read from (native grants depend on it). Default `roles`. */
  rolesClaim?: string;
  /** The backend's tool names, its server not named; enables the tool checks (lint-tools.ts). */
  tools?: readonly string[];
  /**
   * Instead of `tools`: each server's tool names, by server name; enables the tool checks server by server, and the
   * check that every `servers.<name>` section names one of these servers.
   */
  serverTools?: Readonly<Record<string, readonly string[]>>;
}

/** Where a finding is: its document, and the place in it. */
interface Located {
  document: NamedPolicyDocument;
  path: readonly PropertyKey[];
}

/** A native grant, with the document it is written in (a Located: its path is its place there). */
interface Grant extends DocumentGrant {
  document: NamedPolicyDocument;
}

interface CelRule extends Located {
  origin: string;
  effect: "allow" | "deny" | "require";
  ast: ASTNode;
  appliesTo: readonly ItemRef[] | undefined;
}

function grantsOf(documents: readonly NamedPolicyDocument[]): Grant[] {
  return documents.flatMap((document) => documentGrants(document.origin, document.document).map((grant) => ({ ...grant, document })));
}

function celRulesOf(documents: readonly NamedPolicyDocument[]): CelRule[] {
  return documents.flatMap((document) =>
    document.document.rules.map((rule, index) => {
      const ruleOrigin = `${document.origin} rules[${index}]`;
      const { appliesTo } = compileCelCondition(ruleOrigin, rule.expression);
      return { origin: ruleOrigin, effect: rule.effect, ast: celSyntaxTree(ruleOrigin, rule.expression), appliesTo, document, path: ["rules", index] };
    }),
  );
}

/** The line and column of a grant's key (or of its value) or a rule, for the finding's line. */
function positionOf(located: Located, place: Omit<DocumentPlace, "path"> = { key: true }): SourcePosition | undefined {
  return located.document.locate?.({ path: located.path, ...place });
}

/** Findings about grants (lint-grants.ts), each at its grant's key, or at its roles. */
function grantsThatMatchNothing(grants: readonly Grant[], rules: readonly CelRule[]): LintFinding[] {
  const allowRules = rules.filter((rule) => rule.effect === "allow");
  return grantFindings(grants, allowRules).map(({ grant, message, aboutRoles }) => {
    const located = grant as Grant;
    return { origin: located.origin, message, position: positionOf(located, aboutRoles ? {} : { key: true }) };
  });
}

function conjuncts(node: ASTNode): ASTNode[] {
  return node.op === "&&" ? (node.args as [ASTNode, ASTNode]).flatMap(conjuncts) : [node];
}

/** A condition that reads no variable at all has one value, always. */
function constantValue(rule: CelRule): boolean | undefined {
  if (claimsRead(rule.ast).length > 0 || itemKindsRead(rule.ast).length > 0 || /\b(mcp|jwt)\b/.test(serialize(rule.ast))) return undefined;
  return couldHoldForAnyone(rule.ast, { kind: "tool", name: "" });
}

function neverMatching(rules: readonly CelRule[]): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const rule of rules) {
    const constant = constantValue(rule);
    if (constant === false && rule.effect !== "require") findings.push({ origin: rule.origin, message: "can never match (the condition is always false)" });
    if (constant === false && rule.effect === "require") findings.push({ origin: rule.origin, message: "can never hold, so it denies everything" });
    // An item is one kind: a conjunction that needs a tool and a prompt (say) holds for nothing. Parts with `||` or
    // `has()` may be guards, so only plain parts count as needing their kind.
    const needed = new Set(
      conjuncts(rule.ast)
        .filter((part) => !/\|\||has\(/.test(serialize(part)))
        .flatMap((part) => itemKindsRead(part)),
    );
    if (needed.size > 1) findings.push({ origin: rule.origin, message: `can never match: it needs ${[...needed].map((k) => `mcp.${k}`).join(" and ")} at once, but an item is only one kind` });
  }
  return findings;
}

/** Deny rules reading a claim nothing guards, at the read: for a token without it, the deny does not hold. */
function deniesFailingOpen(rules: readonly CelRule[]): LintFinding[] {
  return rules
    .filter((rule) => rule.effect === "deny")
    .flatMap((rule) =>
      unguardedClaimReads(rule.ast).map(({ claim, guards, offset, guarded }) => ({
        origin: rule.origin,
        message:
          `reads ${claim} without ${guards.join(" and ")}: for a token without that claim the condition is an evaluation error, so false, and this deny ` +
          `does not hold for it (nor for a claim of another type, such as one string where a list was expected); write ${guarded} for it to hold for tokens without the claim`,
        position: positionOf({ ...rule, path: [...rule.path, rule.effect] }, { offset }),
      })),
    );
}

function redundantAllows(grants: readonly Grant[], rules: readonly CelRule[]): LintFinding[] {
  const findings: LintFinding[] = [];
  const allowsAll = rules.find((rule) => rule.effect === "allow" && constantValue(rule) === true);
  if (allowsAll) {
    for (const other of [...grants.map((g) => g.origin), ...rules.filter((r) => r.effect === "allow" && r !== allowsAll).map((r) => r.origin)]) {
      findings.push({ origin: other, message: `is shadowed: ${allowsAll.origin} already allows everything` });
    }
    return findings;
  }
  const patterns = new Map(grants.map((grant) => [grant, grantPattern(grant.kind, grant.pattern)]));
  /**
   * Whether `other` matches everything `grant` (an exact name, or a template) does: for an exact name, that name;
   * for a template, the template as written and its expansions, which only a glob matching its text covers.
   */
  const covers = (other: Grant, grant: Grant) => {
    const [own, wider] = [patterns.get(grant)!, patterns.get(other)!];
    return own.form === "template" ? wider.form === "glob" && wider.matches(grant.pattern, true) : wider.matches(grant.pattern, false);
  };
  for (const grant of grants) {
    if (patterns.get(grant)!.form === "glob") continue;
    const wider = grants.find(
      (other) =>
        other !== grant &&
        other.kind === grant.kind &&
        // A top-level grant covers every server's items; a server's grant, that server's only.
        (other.server === undefined || other.server === grant.server) &&
        other.definition.when === undefined &&
        covers(other, grant) &&
        (other.definition.roles.includes("*") || grant.definition.roles.every((role) => other.definition.roles.includes(role))),
    );
    if (wider) findings.push({ origin: grant.origin, message: `is shadowed: ${wider.origin} already allows it for the same roles` });
  }
  return findings;
}

function missingClaims(grants: readonly Grant[], rules: readonly CelRule[], facts: LintFacts): LintFinding[] {
  if (!facts.claims) return [];
  const available = new Set(facts.claims);
  const findings: LintFinding[] = [];
  const rolesClaim = facts.rolesClaim ?? "roles";
  const rolesTop = rolesClaim.split(".")[0] as string;
  if (!available.has(rolesClaim) && !available.has(rolesTop)) {
    for (const grant of grants.filter((g) => !g.definition.roles.includes("*"))) {
      findings.push({ origin: grant.origin, message: `grants roles, but the tokens carry no ${rolesClaim} claim (the roles claim)` });
    }
  }
  for (const rule of rules) {
    for (const claim of new Set(claimsRead(rule.ast))) {
      if (!available.has(claim)) findings.push({ origin: rule.origin, message: `reads jwt.${claim}, which the tokens do not carry` });
    }
  }
  return findings;
}

/** The tool lists of the facts: one list of a backend whose server is not named, or each server's. */
function toolListsOf(facts: LintFacts): ToolList[] | undefined {
  if (facts.serverTools) return Object.entries(facts.serverTools).map(([server, tools]) => ({ server, tools }));
  return facts.tools ? [{ server: undefined, tools: facts.tools }] : undefined;
}

/** Lints valid documents (they must have passed validation: CEL is assumed to compile). */
export function lintPolicy(documents: readonly NamedPolicyDocument[], facts: LintFacts = {}): LintFinding[] {
  const grants = grantsOf(documents);
  const rules = celRulesOf(documents);
  const toolLists = toolListsOf(facts);
  const located = new Map<string, Located>([...grants, ...rules].map((item) => [item.origin, item]));
  const placed = (finding: LintFinding): LintFinding => {
    if (finding.position) return finding;
    const where = located.get(finding.origin);
    // A rule written as an object ({ deny: ... }) is shown at its condition, as compile errors are.
    const position = where && ("effect" in where ? (positionOf({ ...where, path: [...where.path, (where as CelRule).effect] }, {}) ?? positionOf(where, {})) : positionOf(where));
    return position ? { ...finding, position } : finding;
  };
  const inDryRun = documentsInDryRun(documents).map((finding) => ({
    ...finding,
    position: documents.find((d) => `${d.origin} dryRun` === finding.origin)?.locate?.({ path: ["dryRun"], key: true }),
  }));
  return [
    ...inDryRun,
    ...neverMatching(rules),
    ...requiresDenyingOtherKinds(rules),
    ...deniesFailingOpen(rules),
    ...grantsThatMatchNothing(grants, rules),
    ...redundantAllows(grants, rules),
    ...missingClaims(grants, rules, facts),
    ...(toolLists ? [...unlistedServers(documents, toolLists), ...toolListFindings(grants, rules, toolLists), ...unmatchedPins(documents, toolLists)] : []),
  ].map(placed);
}
