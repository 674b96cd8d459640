/**
 * Property: the decision the gateway makes, looking up only the rules that concern an item (rules filed by the exact
 * names they test, name tests run in plain JavaScript, what depends on the caller alone worked out once per caller),
 * is exactly the decision of evaluating every rule, in order, for every item: same outcome, same deciding rule, same
 * explanation, for the policy in force and under dry run.
 *
 * The reference below knows nothing of the shortcuts: every CEL condition is evaluated whole with cel-js (an error
 * counts as false; a listed tool's argument conditions in three-valued logic, as the README describes), native grants
 * are matched with the test oracle's own glob matcher, and agentgateway's combination is applied rule by rule.
 * Conditions are generated to exercise every shape the shortcuts recognise, and the near misses they must not:
 * names tested by `==` on either side and in both spellings, `in` lists, `startsWith` / `endsWith` / `contains`,
 * `||` of such tests, several name tests at once, conditions on claims that fail with errors, `!` and `||` over
 * claims, arguments, `require` rules that name items, and names that differ from each other only just. Resources
 * are judged under every reading of their URI on both sides (resource-decision.ts), so that the index is compared
 * with the whole evaluation reading by reading; URIs whose readings differ are among the names generated.
 */
import { Environment, serialize, type ASTNode } from "@marcbachmann/cel-js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { identityFromClaims } from "../../functions/auth/identity.js";
import { createJudge } from "../../functions/core/judge.js";
import { compilePolicy } from "../../functions/policy/compile.js";
import { decider } from "../../functions/policy/decide.js";
import type { NamedPolicyDocument } from "../../functions/policy/document.js";
import { decideResource } from "../../functions/policy/resource-decision.js";
import type { Decision, Identity, PolicyItem } from "../../functions/policy/types.js";
import { BASE_NAMES, KINDS, PATTERNS, celString, grantMatches, type ItemKind } from "./support/arbitraries.js";

const RUNS = 500;

// ---------------------------------------------------------------------------------------------------------------
// Names, and fragments of them for string tests
// ---------------------------------------------------------------------------------------------------------------

const NAMES: Readonly<Record<ItemKind, readonly string[]>> = {
  tool: [...BASE_NAMES.tool, "search_web", "db_read", "db_write", "Echo", "echo ", "ech", "", "*", "ech?", "\u00e9cho", "e\u0301cho", "\u0435cho"],
  prompt: [...BASE_NAMES.prompt, "summarize*", "Summarize", "summarize\u200b"],
  resource: [
    ...BASE_NAMES.resource,
    "docs://public/../internal/roadmap",
    "docs://public/readme ",
    "file:///etc/passwd",
    "docs://public/{name}",
    // Spellings whose readings (WHATWG-normalised, percent-decoded) differ from them: each reading is judged.
    "DOCS://public/readme",
    "docs://public/%72eadme",
    "FILE:///etc/passwd",
    "file://localhost/etc/passwd",
    "file:/etc/passwd",
    "docs://internal/road%6Dap%",
  ],
};
const ROLES = ["admin", "employee", "finance", "Admin", "*"];

const kindArb = fc.constantFrom(...KINDS);
const nameOf = (kind: ItemKind) => fc.constantFrom(...NAMES[kind]);

// ---------------------------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------------------------

/**
 * `.startsWith(...)`, `.endsWith(...)` or `.contains(...)` with a piece of a real name (a prefix, a suffix, a piece
 * from the middle), so that the test holds for some items and not for others.
 */
function stringTestArb(kind: ItemKind): fc.Arbitrary<string> {
  return fc.tuple(nameOf(kind), fc.nat(), fc.nat(), fc.constantFrom("startsWith", "endsWith", "contains")).map(([name, a, b, method]) => {
    const cutA = a % (name.length + 1);
    const cutB = b % (name.length + 1);
    const piece = method === "startsWith" ? name.slice(0, cutA) : method === "endsWith" ? name.slice(cutA) : name.slice(Math.min(cutA, cutB), Math.max(cutA, cutB));
    return `${method}(${celString(piece)})`;
  });
}

/** A test of the item's name, in the shapes the index recognises (and a few it must not take for one). */
const nameTestOf = (kind: ItemKind): fc.Arbitrary<string> => {
  const read = fc.constantFrom(
    `mcp.${kind}.name`,
    `mcp["${kind}"]["name"]`,
    `mcp.${kind}["name"]`,
    // mcp.tool.uri and mcp.prompt.uri are no fields the gateway binds: a policy reading them does not load.
    ...(kind === "resource" ? ["mcp.resource.uri"] : []),
  );
  const literal = nameOf(kind).map(celString);
  return fc.oneof(
    { weight: 5, arbitrary: fc.tuple(read, literal, fc.boolean()).map(([r, l, flipped]) => (flipped ? `${l} == ${r}` : `${r} == ${l}`)) },
    { weight: 2, arbitrary: fc.tuple(read, fc.array(literal, { maxLength: 3 })).map(([r, ls]) => `${r} in [${ls.join(", ")}]`) },
    { weight: 2, arbitrary: fc.tuple(read, stringTestArb(kind)).map(([r, test]) => `${r}.${test}`) },
    { weight: 1, arbitrary: fc.tuple(read, literal).map(([r, l]) => `${r} != ${l}`) },
    { weight: 1, arbitrary: read.map((r) => `size(${r}) > 4`) },
  );
};
const nameTestArb: fc.Arbitrary<string> = kindArb.chain(nameTestOf);

/** Name tests joined by `||` (also across kinds), sometimes in parentheses that change nothing. */
const nameTestsArb: fc.Arbitrary<string> = fc
  .array(nameTestArb, { minLength: 1, maxLength: 3 })
  .map((tests) => (tests.length === 1 ? tests[0]! : `(${tests.join(" || ")})`));

/** Conditions on the caller's claims, including ones that are errors (so false) when a claim is missing or mistyped. */
const claimTestArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...ROLES).map((role) => `${celString(role)} in jwt.roles`),
  fc.constantFrom(...ROLES).map((role) => `!(${celString(role)} in jwt.roles)`),
  fc.constantFrom("alice", "mallory").map((sub) => `jwt.sub == ${celString(sub)}`),
  fc.constant("has(jwt.email)"),
  fc.constant("jwt.level > 2"),
  fc.constant('("admin" in jwt.roles || jwt.sub == "alice")'),
  fc.constant("true"),
  fc.constant("false"),
);

/** Conditions on a tool call's arguments (unknown while the tool is listed). */
const argumentTestArb: fc.Arbitrary<string> = fc.constantFrom(
  "mcp.tool.arguments.amount < 1000",
  'mcp.tool.arguments.env == "prod"',
  "has(mcp.tool.arguments.amount)",
  '!(mcp.tool.arguments.env == "prod")',
);

const atomArb = fc.oneof({ weight: 4, arbitrary: nameTestsArb }, { weight: 4, arbitrary: claimTestArb }, { weight: 1, arbitrary: argumentTestArb });

/** A rule's condition: mostly a conjunction of atoms, sometimes an `||` or a negation around them. */
const conditionArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.array(atomArb, { minLength: 1, maxLength: 3 }).map((atoms) => atoms.join(" && ")) },
  { weight: 1, arbitrary: fc.tuple(atomArb, atomArb).map(([a, b]) => `${a} || ${b}`) },
  { weight: 1, arbitrary: fc.tuple(atomArb, atomArb).map(([a, b]) => `!(${a} && ${b})`) },
);

interface RuleModel {
  effect: "allow" | "deny" | "require";
  expression: string;
}

const ruleArb: fc.Arbitrary<RuleModel> = fc.record({
  // Mostly allow rules: a require rule stops most items, and many would leave little to decide.
  effect: fc.oneof(
    { weight: 8, arbitrary: fc.constant("allow" as const) },
    { weight: 2, arbitrary: fc.constant("deny" as const) },
    { weight: 1, arbitrary: fc.constant("require" as const) },
  ),
  expression: conditionArb,
});

interface GrantModel {
  kind: ItemKind;
  pattern: string;
  roles: string[];
  when: string | undefined;
}

const grantArb: fc.Arbitrary<GrantModel> = kindArb.chain((kind) =>
  fc.record({
    kind: fc.constant(kind),
    pattern: fc.oneof(nameOf(kind).filter((name) => name !== ""), fc.constantFrom(...PATTERNS[kind])),
    roles: fc.subarray(ROLES, { minLength: 1, maxLength: 2 }),
    // A grant's condition is judged for items of its own kind only: it may read no other kind (the type check refuses it).
    when: fc.option(
      fc.oneof(
        claimTestArb,
        ...(kind === "tool" ? [argumentTestArb] : []),
        fc.array(nameTestOf(kind), { minLength: 1, maxLength: 3 }).map((tests) => (tests.length === 1 ? tests[0]! : `(${tests.join(" || ")})`)),
      ),
      { nil: undefined, freq: 3 },
    ),
  }),
);

interface DocumentModel {
  grants: GrantModel[];
  rules: RuleModel[];
  dryRun: boolean;
}

const documentArb: fc.Arbitrary<DocumentModel> = fc.record({
  grants: fc.uniqueArray(grantArb, { maxLength: 6, selector: (g) => `${g.kind}\u0000${g.pattern}` }),
  rules: fc.array(ruleArb, { maxLength: 6 }),
  dryRun: fc.boolean(),
});

const SECTIONS: Readonly<Record<ItemKind, "tools" | "prompts" | "resources">> = { tool: "tools", prompt: "prompts", resource: "resources" };

function documentsOf(models: readonly DocumentModel[]): NamedPolicyDocument[] {
  return models.map((model, index) => {
    const document: Record<string, unknown> = { rules: model.rules, ...(model.dryRun ? { dryRun: true } : {}) };
    for (const grant of model.grants) {
      const section = (document[SECTIONS[grant.kind]] ??= {}) as Record<string, unknown>;
      section[grant.pattern] = { roles: grant.roles, when: grant.when };
    }
    return { origin: `doc${index}.yaml`, document } as unknown as NamedPolicyDocument;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Callers and items
// ---------------------------------------------------------------------------------------------------------------

const claimsArb: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    sub: fc.constantFrom("alice", "mallory", "bob"),
    roles: fc.oneof(fc.subarray(ROLES), fc.subarray(ROLES).map((roles) => roles.join(" ")), fc.subarray(ROLES).map((roles) => [42, ...roles])),
    email: fc.constant("a@example.com"),
    level: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant("high")),
  },
  { requiredKeys: [] },
);

/** Items, named mostly as the policy names things (so that its rules meet them), else from the pool, else anything. */
function itemArb(mentioned: readonly string[]): fc.Arbitrary<PolicyItem> {
  return kindArb.chain((kind) =>
  fc.record(
    {
      kind: fc.constant(kind),
      name: fc.oneof(
        { weight: mentioned.length > 0 ? 6 : 0, arbitrary: fc.constantFrom("", ...mentioned) },
        { weight: 4, arbitrary: nameOf(kind) },
        { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
      ),
      ...(kind === "tool"
        ? { arguments: fc.record({ amount: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.constant("lots")), env: fc.constantFrom("prod", "dev") }, { requiredKeys: [] }) }
        : {}),
      // A resource template of a list, judged as written rather than under the readings of a URI.
      ...(kind === "resource" ? { template: fc.constant(true as const) } : {}),
    },
    { requiredKeys: ["kind", "name"] },
  ),
  ) as fc.Arbitrary<PolicyItem>;
}

/** Every string literal of a policy's conditions and every grant pattern: the names its rules are about. */
function mentionedNames(documents: readonly DocumentModel[]): string[] {
  const texts = documents.flatMap((d) => [...d.grants.flatMap((g) => [g.pattern, g.when ?? ""]), ...d.rules.map((r) => r.expression)]);
  const literals = texts.flatMap((text) => [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string));
  return [...new Set([...documents.flatMap((d) => d.grants.map((g) => g.pattern)), ...literals])];
}

// ---------------------------------------------------------------------------------------------------------------
// The reference: every rule, evaluated whole, in order
// ---------------------------------------------------------------------------------------------------------------

const cel = new Environment();
cel.registerVariable("mcp", "map");
cel.registerVariable("jwt", "map");

type Truth = boolean | "unknown";
type Evaluate = (variables: Record<string, unknown>) => Truth;

function safely(evaluate: (variables: Record<string, unknown>) => unknown, variables: Record<string, unknown>): boolean {
  try {
    return evaluate(variables) === true;
  } catch {
    return false;
  }
}

/** The README's listing semantics: argument conditions unknown; `&&`, `||`, `!` combine in three-valued logic. */
function threeValued(node: ASTNode): Evaluate {
  if (node.op === "&&" || node.op === "||") {
    const [left, right] = (node.args as ASTNode[]).map(threeValued) as [Evaluate, Evaluate];
    const decisive = node.op === "||";
    return (variables) => {
      const a = left(variables);
      if (a === decisive) return decisive;
      const b = right(variables);
      if (b === decisive) return decisive;
      return a === "unknown" || b === "unknown" ? "unknown" : !decisive;
    };
  }
  if (node.op === "!_") {
    const inner = threeValued(node.args as ASTNode);
    return (variables) => {
      const value = inner(variables);
      return value === "unknown" ? value : !value;
    };
  }
  const text = serialize(node);
  if (text.includes("mcp.tool.arguments")) return () => "unknown";
  const leaf = cel.parse(text);
  return (variables) => safely(leaf, variables);
}

type Condition = (identity: Identity, item: PolicyItem) => Truth;

function referenceCondition(expression: string): Condition {
  const whole = cel.parse(expression);
  whole.check();
  const listing = expression.includes("mcp.tool.arguments") ? threeValued(whole.ast) : undefined;
  return (identity, item) => {
    const described: Record<string, unknown> = item.kind === "resource" ? { name: item.name, uri: item.name } : { name: item.name };
    if (item.arguments !== undefined) described.arguments = item.arguments;
    const variables = { mcp: { [item.kind]: described }, jwt: identity.claims };
    if (listing && item.kind === "tool" && item.arguments === undefined) return listing(variables);
    return safely(whole, variables);
  };
}

interface ReferenceRule {
  effect: RuleModel["effect"];
  origin: string;
  holds: Condition;
}

function referenceRules(models: readonly DocumentModel[]): ReferenceRule[] {
  return models.flatMap((model, index) => {
    const origin = `doc${index}.yaml`;
    const grants = KINDS.flatMap((kind) =>
      model.grants
        .filter((grant) => grant.kind === kind)
        .map((grant): ReferenceRule => {
          const when = grant.when === undefined ? undefined : referenceCondition(grant.when);
          return {
            effect: "allow",
            origin: `${origin} ${SECTIONS[kind]}.${grant.pattern}`,
            holds: (identity, item) => {
              if (item.kind !== kind || !grantMatches(grant, item.name, item.template === true)) return false;
              if (!grant.roles.includes("*") && !identity.roles.some((role) => grant.roles.includes(role))) return false;
              return when ? when(identity, item) : true;
            },
          };
        }),
    );
    const rules = model.rules.map((rule, i): ReferenceRule => ({ effect: rule.effect, origin: `${origin} rules[${i}]`, holds: referenceCondition(rule.expression) }));
    return [...grants, ...rules];
  });
}

/**
 * A resource is judged under every reading of its URI (what is never allowed first), as the gateway does: the
 * readings and their combination are not a shortcut of the index, so the reference uses the same ones
 * (functions/policy/resource-decision.ts, tested on its own in test/property/resource-readings.test.ts), with every
 * reading judged by the rules evaluated whole.
 */
function referenceDecision(rules: readonly ReferenceRule[], identity: Identity, item: PolicyItem): Decision {
  const byRules = (judged: PolicyItem) => referenceByRules(rules, identity, judged);
  return item.kind === "resource" ? decideResource(item, byRules) : byRules(item);
}

function referenceByRules(rules: readonly ReferenceRule[], identity: Identity, item: PolicyItem): Decision {
  if (rules.length === 0) return { allowed: false, rule: undefined, explanation: "the policy has no rules, so nothing is allowed" };
  for (const rule of rules) {
    if (rule.effect === "deny" && rule.holds(identity, item) === true) return { allowed: false, rule: rule.origin, explanation: `denied by ${rule.origin}` };
    if (rule.effect === "require" && rule.holds(identity, item) === false) {
      return { allowed: false, rule: rule.origin, explanation: `required condition ${rule.origin} does not hold` };
    }
  }
  if (!rules.some((rule) => rule.effect === "allow")) {
    return { allowed: true, rule: undefined, explanation: "no deny or require rule stopped it, and the policy has no allow rules" };
  }
  const allowing = rules.find((rule) => rule.effect === "allow" && rule.holds(identity, item) !== false);
  if (allowing) return { allowed: true, rule: allowing.origin, explanation: `allowed by ${allowing.origin}` };
  return { allowed: false, rule: undefined, explanation: "no rule allows it (default deny)" };
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

const scenarioArb = fc.array(documentArb, { minLength: 1, maxLength: 2 }).chain((documents) =>
  fc.record({
    documents: fc.constant(documents),
    claims: claimsArb,
    rolesClaim: fc.constantFrom("roles", "roles", "groups"),
    items: fc.array(itemArb(mentionedNames(documents)), { minLength: 1, maxLength: 12 }),
  }),
);

describe("decisions looked up by item equal decisions over every rule", () => {
  it("for every item of a list, one caller, the policy as a whole (dry-run documents enforced too)", () => {
    fc.assert(
      fc.property(scenarioArb, ({ documents, claims, rolesClaim, items }) => {
        const everything = documents.map((d) => ({ ...d, dryRun: false }));
        const policy = compilePolicy(documentsOf(everything));
        const reference = referenceRules(everything);
        const identity = identityFromClaims({ iss: "https://idp.example.com", ...claims }, rolesClaim);
        // One decider for the whole list, as a request uses it: what it works out for the caller is reused.
        const decide = decider(policy, identity);
        for (const item of items) expect(decide(item)).toEqual(referenceDecision(reference, identity, item));
      }),
      { numRuns: RUNS },
    );
  });

  it("under dry run: the decision in force and the would-be decision, per document and for the whole policy", () => {
    fc.assert(
      fc.property(scenarioArb, fc.boolean(), ({ documents, claims, rolesClaim, items }, globalDryRun) => {
        const policy = compilePolicy(documentsOf(documents));
        const enforced = referenceRules(documents.map((d) => (d.dryRun ? { ...d, grants: [], rules: [] } : d)));
        const all = referenceRules(documents);
        const identity = identityFromClaims({ iss: "https://idp.example.com", ...claims }, rolesClaim);
        const judge = createJudge(policy, identity, globalDryRun);
        const hasDryRun = documents.some((d) => d.dryRun);
        for (const item of items) {
          const inForce = globalDryRun
            ? { allowed: true, rule: undefined, explanation: "the whole policy is in dry run (POLICY_DRY_RUN)" }
            : referenceDecision(enforced, identity, item);
          const expected = hasDryRun || globalDryRun ? referenceDecision(all, identity, item) : undefined;
          const judgement = judge(item);
          expect({ allowed: judgement.allowed, rule: judgement.rule, explanation: judgement.explanation }).toEqual(inForce);
          expect(judgement.dryRun).toEqual(expected && expected.allowed !== inForce.allowed ? expected : undefined);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
