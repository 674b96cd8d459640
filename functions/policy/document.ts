/**
 * The policy document format (YAML or JSON), in two forms that may be combined:
 *
 * ```yaml
 * # Native form: tools, prompts and resources (exact names or glob patterns) mapped to the roles allowed.
 * # "*" as a role means any authenticated caller. Anything not granted is denied.
 * tools:
 *   echo: [admin]
 *   "search_*": [employee, admin]
 *   transfer: { roles: [finance], when: "mcp.tool.arguments.amount < 1000" }   # a condition, e.g. on arguments
 * prompts:
 *   summarize: ["*"]
 * resources:              # matched against the resource URI (templates: their uriTemplate)
 *   "docs://public/*": ["*"]
 *   "docs://page/{id}": [employee]   # a URI template: the template, and URIs it expands to (uri-template.ts)
 *
 * # The same sections scoped to one backend server (its name as the gateway is configured with it): they apply only
 * # to that server's items; the top-level ones above apply to the items of every server.
 * servers:
 *   github:
 *     tools: { "search_*": [dev] }
 *     resources: { "repo://*": [dev] }
 *     # The approved definitions of its tools, prompts and resource templates (pins/, written by `policy pin`):
 *     pins: { tools: { search_code: "sha256:<64 hex digits>" }, prompts: {}, resourceTemplates: {} }
 *     pinning: enforce     # enforce (default with pins) | warn | off
 *
 * # agentgateway form: its mcpAuthorization rules, CEL strings (= allow) or allow/deny/require objects.
 * rules:
 *   - 'mcp.tool.name == "echo" && "admin" in jwt.roles'
 *   - deny: 'jwt.sub == "mallory"'
 * ```
 *
 * An agentgateway policy block (`mcpAuthorization: { rules: [...] }`) is accepted as is.
 */
import * as z from "zod/mini";
import "../zod-messages.js";
import { PolicyError } from "../errors.js";
import { parseYaml } from "./yaml.js";
import { formatYamlPath } from "./yaml-path.js";
import { atPosition, locate, type DocumentPlace, type SourcePosition } from "./yaml-position.js";
import { serverNameProblem } from "./server-name.js";
import { isTemplateKey, readTemplateKey } from "./uri-template.js";
import { DIGEST_PATTERN, DIGEST_RULE } from "../pins/definition-digest.js";

/** The `params` of an issue about a mapping's key rather than its value: its position is the key's. */
const ABOUT_THE_KEY = { aboutTheKey: true } as const;

const ROLES_EXPECTED = "must be a role name or a non-empty list of role names";

const roleList = z
  .union(
    [
      z.pipe(z.string().check(z.minLength(1)), z.transform((role) => [role])),
      z.array(z.string().check(z.minLength(1, { error: ROLES_EXPECTED }))),
    ],
    { error: ROLES_EXPECTED },
  )
  .check(z.refine((roles) => roles.length > 0, { error: ROLES_EXPECTED }));

/** A grant: roles alone, or roles with a condition (CEL, e.g. on the tool call's arguments). */
const grant = z.union(
  [
    z.pipe(roleList, z.transform((roles) => ({ roles, when: undefined as string | undefined }))),
    z.strictObject({
      roles: roleList,
      when: z.optional(z.string().check(z.trim(), z.minLength(1, { error: "a condition must not be empty" }))),
    }),
  ],
  { error: "must be a role name, a non-empty list of role names, or { roles, when }" },
);

const grants = z.record(z.string(), grant).check(
  z.superRefine((record, ctx) => {
    if (Object.hasOwn(record, "")) ctx.addIssue({ code: "custom", path: [""], message: "a name or pattern must not be empty" });
  }),
);

/** Resource grants: keys with `{...}` are URI templates, and only level-1 `{name}` expressions are accepted. */
const resourceGrants = grants.check(
  z.superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      const read = isTemplateKey(key) ? readTemplateKey(key) : undefined;
      if (read?.kind === "refused") ctx.addIssue({ code: "custom", path: [key], message: read.reason });
    }
  }),
);

/** Names (of tools, prompts; uriTemplates of templates) to the digest of their approved definition (pins/). */
const digests = z.record(z.string().check(z.minLength(1, { error: "a pinned name must not be empty" })), z.string().check(z.regex(DIGEST_PATTERN, { error: DIGEST_RULE })));

/** A server's pinned definitions, by kind; a kind left out pins nothing of it (so, under enforce, hides all of it). */
const pinSections = z.strictObject({
  tools: z.optional(digests),
  prompts: z.optional(digests),
  resourceTemplates: z.optional(digests),
});

/** The grant sections of one server, under `servers.<name>`: the same as the top-level ones, for its items only. */
const serverSections = z.strictObject({
  tools: z.optional(grants),
  prompts: z.optional(grants),
  resources: z.optional(resourceGrants),
  /**
   * The approved definitions of the server's tools, prompts and resource templates, as digests (pins/): a listed
   * definition without its pin is hidden and its use refused (`pinning`). Written by `policy pin`.
   */
  pins: z.optional(pinSections),
  /**
   * What a definition that does not match its pin does: `enforce` (hidden from lists, its use refused), `warn` (shown,
   * logged and counted, for a roll-out), `off` (pins ignored). Default: `enforce` when the server has pins, else off.
   */
  pinning: z.optional(z.enum(["enforce", "warn", "off"], { error: "must be enforce, warn or off" })),
});

/**
 * `servers`: server names (server-name.ts; a key that is none is refused, named) to their grant sections. The names
 * are checked even when a section is wrong too (zod skips checks after a problem by default), so one message lists
 * both; the check reads only the keys, which any mapping has.
 */
const servers = z.record(z.string(), serverSections).check(
  z.superRefine(
    (record, ctx) => {
      for (const name of Object.keys(record)) {
        const problem = serverNameProblem(name);
        if (problem) ctx.addIssue({ code: "custom", path: [name], message: problem, params: ABOUT_THE_KEY });
      }
    },
    { when: ({ value }) => typeof value === "object" && value !== null && !Array.isArray(value) },
  ),
);

const celRule = z.string();

export const ruleSchema = z
  .union(
    [
      z.pipe(celRule, z.transform((expression) => ({ effect: "allow" as const, expression }))),
      z.pipe(z.strictObject({ allow: celRule }), z.transform((r) => ({ effect: "allow" as const, expression: r.allow }))),
      z.pipe(z.strictObject({ deny: celRule }), z.transform((r) => ({ effect: "deny" as const, expression: r.deny }))),
      z.pipe(z.strictObject({ require: celRule }), z.transform((r) => ({ effect: "require" as const, expression: r.require }))),
    ],
    { error: "a rule is a CEL string, or an object with exactly one of allow, deny, require" },
  )
  .check(z.refine((rule) => rule.expression.trim().length > 0, { error: "a CEL rule must not be empty" }));

export const policyDocumentSchema = z.pipe(
  z.strictObject({
    /** Format version; only 1 exists. */
    version: z.optional(z.literal(1)),
    /** Free text for the humans maintaining the policy. */
    description: z.optional(z.string()),
    /**
     * Dry run: the document's rules are evaluated and their would-be decisions logged and counted, but not enforced,
     * so a new policy can be rolled out safely. Default false.
     */
    dryRun: z.optional(z.boolean()),
    tools: z.optional(grants),
    prompts: z.optional(grants),
    resources: z.optional(resourceGrants),
    /** Grants scoped to one server's items, by server name; the top-level tools, prompts, resources apply to all. */
    servers: z.optional(servers),
    rules: z.optional(z.array(ruleSchema)),
    mcpAuthorization: z.optional(z.strictObject({ rules: z.array(ruleSchema) })),
  }),
  z.transform(({ mcpAuthorization, rules, ...rest }) => ({
    ...rest,
    rules: [...(rules ?? []), ...(mcpAuthorization?.rules ?? [])],
  })),
);

export type PolicyDocument = z.output<typeof policyDocumentSchema>;
export type GrantDefinition = z.output<typeof grant>;
export type PolicyRule = PolicyDocument["rules"][number];

/** A policy document's text and where it came from (file path or SSM parameter name), for messages and logs. */
export interface PolicySourceText {
  origin: string;
  text: string;
}

export interface NamedPolicyDocument {
  origin: string;
  document: PolicyDocument;
  /**
   * Where a place of the document is in its text, for messages. Places are those of the parsed document: `rules[i]`
   * counts the mcpAuthorization rules after the top-level ones, as rule origins do. Absent without a text.
   */
  locate?(place: DocumentPlace): SourcePosition | undefined;
}

/** The path in the text of a place of the parsed document (the merged `rules` list back to where each was written). */
function sourcePath(path: ReadonlyArray<PropertyKey>, topLevelRules: number): ReadonlyArray<PropertyKey> {
  const [section, index, ...rest] = path;
  if (section !== "rules" || typeof index !== "number" || index < topLevelRules) return path;
  return ["mcpAuthorization", "rules", index - topLevelRules, ...rest];
}

/** Parses and validates one document; errors name the origin, the place in the document and what was wrong. */
export function parsePolicyDocument({ origin, text }: PolicySourceText): NamedPolicyDocument {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PolicyError(`${origin}: not valid YAML or JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (raw === null || raw === undefined) throw new PolicyError(`${origin}: the document is empty`);
  const result = policyDocumentSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = issue.code === "custom" && issue.params?.aboutTheKey === true;
      return `${formatYamlPath(issue.path)}: ${issue.message}${atPosition(locate(text, { path: issue.path, key }))}`;
    });
    throw new PolicyError(`${origin}: ${problems.join("; ")}`);
  }
  const rules = (raw as { rules?: unknown }).rules;
  const topLevelRules = Array.isArray(rules) ? rules.length : 0;
  return { origin, document: result.data, locate: (place) => locate(text, { ...place, path: sourcePath(place.path, topLevelRules) }) };
}
