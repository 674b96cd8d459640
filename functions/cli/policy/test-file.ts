/**
 * The `policy test` file: a table of expected decisions, so a policy can be put under CI.
 *
 * ```yaml
 * policy: [walkthrough.yaml]          # policy files, relative to this file (one name or a list), or
 * # policy: { path: /mcp-sso-gateway/McpSsoGateway/policies }  # every document under an SSM path (region: optional);
 * # path: /mcp-sso-gateway/McpSsoGateway/policies              # the same, written at the top level
 * rolesClaim: roles                   # optional, as the gateway's ROLES_CLAIM
 * identities:                         # named claim sets, reused by cases
 *   boss: { sub: pointy-haired-boss, roles: [admin] }
 *   jsmith: { sub: jsmith }
 * cases:
 *   - { as: jsmith, tool: echo, expect: deny }
 *   - { as: boss, tool: echo, expect: allow, rule: "walkthrough.yaml rules[0]" } # optional: the deciding rule
 *   - { as: boss, tool: transfer, args: { amount: 50 }, expect: allow }          # a call with these arguments
 *   - { claims: { sub: x }, prompt: summarize, expect: deny, rule: null }        # null: decided by a default
 *   - { as: boss, tool: search_code, server: github, expect: allow }            # an item of that server
 * ```
 */
import { z } from "zod";
import { serverNameProblem } from "../../policy/server-name.js";
import type { ItemKind } from "../../policy/types.js";
import type { PolicyLocation } from "./policy-input.js";
import { parseYaml } from "../../policy/yaml.js";
import { formatYamlPath } from "../../policy/yaml-path.js";

export type Expectation = "allow" | "deny";

export interface TestCase {
  /** Where the case is in the file, e.g. `cases[2]`, for output lines. */
  place: string;
  name: string | undefined;
  /** The identity's name (`as`), or undefined for inline claims. */
  identityName: string | undefined;
  claims: Record<string, unknown>;
  kind: ItemKind;
  itemName: string;
  args: Record<string, unknown> | undefined;
  /** The server the item belongs to (PolicyItem.target), or undefined for an item of no server. */
  server: string | undefined;
  expect: Expectation;
  /** The expected deciding rule; null expects a default decision; undefined checks no rule. */
  rule: string | null | undefined;
}

export interface TestFile {
  location: PolicyLocation;
  rolesClaim: string | undefined;
  cases: TestCase[];
}

/** The file is not a valid test file: every problem, each naming its place (`cases[1].expect: ...`). */
export class TestFileError extends Error {
  constructor(
    readonly origin: string,
    readonly problems: readonly string[],
  ) {
    super(`${origin}: invalid test file:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "TestFileError";
  }
}

const nonEmpty = (what: string) => z.string({ error: `must be ${what}` }).trim().min(1, { error: "must not be empty" });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Cross-field checks also run when a field is invalid (zod skips them by default), so one run lists every problem.
 * They only look at which keys are present, which is safe on a value that failed elsewhere.
 */
const evenWithOtherProblems = { when: (payload: { value: unknown }) => isObject(payload.value) };

const claimSet = z.record(z.string(), z.unknown(), { error: "must be a map of claims, such as { sub: jsmith, roles: [admin] }" });

const ITEM_KEYS = ["tool", "prompt", "resource"] as const;

const CASE_KEYS = ["name", "as", "claims", ...ITEM_KEYS, "server", "args", "expect", "rule"] as const;
const FILE_KEYS = ["description", "policy", "path", "rolesClaim", "identities", "cases"] as const;

const caseSchema = z
  .strictObject({
    /** Free text shown in the case's output line. */
    name: z.string().optional(),
    as: nonEmpty("the name of one of the identities").optional(),
    claims: claimSet.optional(),
    tool: nonEmpty("a tool name").optional(),
    prompt: nonEmpty("a prompt name").optional(),
    resource: nonEmpty("a resource URI").optional(),
    /** The server the item belongs to, as the gateway names it: its `servers.<name>` grants apply, and its target. */
    server: nonEmpty("a server name")
      .superRefine((name, ctx) => {
        // An empty name is already refused as such.
        const problem = name === "" ? undefined : serverNameProblem(name);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .optional(),
    args: z.record(z.string(), z.unknown(), { error: "must be a map of the tool call's arguments" }).optional(),
    expect: z.enum(["allow", "deny"], {
      error: (issue) => (issue.input === undefined ? 'is required: "allow" or "deny"' : 'must be "allow" or "deny"'),
    }),
    rule: nonEmpty("the deciding rule, e.g. 'policy.yaml rules[0]', or null for a default decision").nullable().optional(),
  })
  .superRefine((c, ctx) => {
    const items = ITEM_KEYS.filter((key) => c[key] !== undefined);
    if (items.length !== 1) ctx.addIssue({ code: "custom", message: `needs exactly one of tool, prompt, resource${items.length ? ` (has ${items.join(", ")})` : ""}` });
    if ((c.as === undefined) === (c.claims === undefined)) ctx.addIssue({ code: "custom", message: "needs exactly one of as (a named identity) or claims" });
    if (c.args !== undefined && c.tool === undefined) ctx.addIssue({ code: "custom", path: ["args"], message: "goes with tool: only tool calls have arguments" });
  }, evenWithOtherProblems);

/** Every form `policy:` takes, for the message of one that is none of them. */
const POLICY_FORMS =
  "must be a policy file (policy: walkthrough.yaml) or a non-empty list of them (policy: [a.yaml, b.yaml]), relative to the test file, " +
  "or an SSM path (policy: { path: /mcp-sso-gateway/McpSsoGateway/policies }, with an optional region)";

const ssmPath = z
  .string({ error: (issue) => (issue.input === undefined ? "is required: an SSM parameter path, such as /mcp-sso-gateway/McpSsoGateway/policies" : "must be an SSM parameter path") })
  .startsWith("/", { error: 'must be an SSM parameter path starting with "/"' });

const POLICY_PATH_KEYS = ["path", "region"] as const;

/** `policy:` as files: one name or a non-empty list. */
const policyFiles = z.union([nonEmpty("a policy file"), z.array(nonEmpty("a policy file")).min(1, { error: POLICY_FORMS })], { error: POLICY_FORMS });

/** `policy: { path, region }`: every document under an SSM path, read as the gateway reads them. */
const policyAtPath = z.strictObject({
  path: ssmPath,
  /** The AWS region of the parameters; default: the SDK's usual resolution (AWS_REGION, the profile...). */
  region: nonEmpty("an AWS region, such as eu-west-1").optional(),
});

/**
 * The `policy:` value, checked in the form its shape says it is (an object: an SSM path; anything else: files), so a
 * mistake inside one form is named as such rather than as "none of the forms".
 */
const policySchema = z.unknown().check(
  z.superRefine((value, ctx) => {
    const result = (isObject(value) ? policyAtPath : policyFiles).safeParse(value);
    for (const issue of result.error?.issues ?? []) {
      const message =
        issue.code === "unrecognized_keys"
          ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((key) => JSON.stringify(key)).join(", ")} (allowed: ${POLICY_PATH_KEYS.join(", ")}); ${POLICY_FORMS}`
          : issue.message;
      ctx.addIssue({ code: "custom", path: issue.path, message });
    }
  }),
);

const testFileSchema = z
  .strictObject({
    /** Free text for the humans maintaining the tests. */
    description: z.string().optional(),
    policy: policySchema.optional(),
    path: ssmPath.optional(),
    rolesClaim: nonEmpty("a claim name").optional(),
    identities: z.record(z.string(), claimSet, { error: "must map identity names to claims" }).optional(),
    cases: z.array(caseSchema, { error: "must be a list of cases" }).min(1, { error: "must list at least one case" }),
  })
  .superRefine((file, ctx) => {
    if ((file.policy === undefined) === (file.path === undefined)) {
      ctx.addIssue({
        code: "custom",
        message:
          "needs exactly one of policy (files: policy: walkthrough.yaml or policy: [a.yaml, b.yaml]; an SSM path: policy: { path: /an/ssm/path }) or path (an SSM path: path: /an/ssm/path)",
      });
    }
    // The value may hold invalid parts (see evenWithOtherProblems): read identities and cases defensively.
    const identities = isObject(file.identities) ? file.identities : {};
    const known = Object.keys(identities);
    (Array.isArray(file.cases) ? file.cases : []).forEach((c: unknown, index) => {
      if (!isObject(c) || typeof c.as !== "string" || Object.hasOwn(identities, c.as.trim())) return;
      const hint = known.length ? `one of ${known.join(", ")}` : "none are defined under identities";
      ctx.addIssue({ code: "custom", path: ["cases", index, "as"], message: `no identity named ${JSON.stringify(c.as)} (${hint})` });
    });
  }, evenWithOtherProblems);

/** Where the policy of a valid file is (its `policy:` or `path:`), a path without its trailing slashes as the gateway reads it. */
function locationOf(policy: unknown, path: string | undefined, baseDir: string): PolicyLocation {
  const atPath = (raw: string, region?: string): PolicyLocation => ({ ssmPath: raw.replace(/(.)\/+$/, "$1"), ...(region === undefined ? {} : { region }) });
  if (policy === undefined) return atPath(path as string);
  if (typeof policy === "string") return { files: [policy], baseDir };
  if (Array.isArray(policy)) return { files: policy as string[], baseDir };
  const { path: ssm, region } = policyAtPath.parse(policy);
  return atPath(ssm, region);
}

/** zod's wording for unknown keys, replaced with one that lists what is allowed there. */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code !== "unrecognized_keys") return issue.message;
  const allowed = issue.path.length === 0 ? FILE_KEYS : issue.path[0] === "cases" && issue.path.length === 2 ? CASE_KEYS : undefined;
  const keys = issue.keys.map((key) => JSON.stringify(key)).join(", ");
  return `unknown key${issue.keys.length > 1 ? "s" : ""} ${keys}${allowed ? ` (allowed: ${allowed.join(", ")})` : ""}`;
}

/** Parses and validates a test file; throws TestFileError listing every problem with its place. */
export function parseTestFile(origin: string, text: string, baseDir: string): TestFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new TestFileError(origin, [`not valid YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  if (raw === null || raw === undefined) throw new TestFileError(origin, ["the file is empty"]);
  const result = testFileSchema.safeParse(raw);
  if (!result.success) throw new TestFileError(origin, result.error.issues.map((issue) => `${formatYamlPath(issue.path, "(file)")}: ${describeIssue(issue)}`));

  const file = result.data;
  return {
    location: locationOf(file.policy, file.path, baseDir),
    rolesClaim: file.rolesClaim,
    cases: file.cases.map((c, index) => {
      const kind = ITEM_KEYS.find((key) => c[key] !== undefined) as ItemKind;
      return {
        place: `cases[${index}]`,
        name: c.name,
        identityName: c.as,
        // Validation guarantees exactly one of `as` (a defined identity) and `claims`.
        claims: c.as !== undefined ? (file.identities?.[c.as] ?? {}) : (c.claims ?? {}),
        kind,
        itemName: c[kind] as string,
        args: c.args,
        server: c.server,
        expect: c.expect,
        rule: c.rule,
      };
    }),
  };
}
