/**
 * Generators for the authorization properties, and the model they generate: native policy documents (exact names
 * and glob patterns mapped to roles, CEL allow and deny rules on exact names), the caller's roles claim, and names
 * that differ from each other only just (case, Unicode normalization and look-alikes, invisible characters,
 * whitespace, very long names, glob metacharacters taken literally).
 *
 * `mayUse` is the oracle: written from the README's description of a decision, with no code of the gateway's. It
 * compares names by exact string equality (MCP names are case-sensitive and never normalized) and implements the
 * documented glob semantics (`*` any run of characters, `?` exactly one character) on its own.
 */
import fc from "fast-check";
import { dump as toYaml } from "js-yaml";

export type ItemKind = "tool" | "prompt" | "resource";
export const KINDS: readonly ItemKind[] = ["tool", "prompt", "resource"];

// ---------------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------------

const LONG = "x".repeat(10_000);

const FULLWIDTH_OFFSET = 0xff01 - 0x21;
export function fullwidth(name: string): string {
  return Array.from(name, (ch) => (ch >= "!" && ch <= "~" ? String.fromCodePoint(ch.codePointAt(0)! + FULLWIDTH_OFFSET) : ch)).join("");
}

/** Latin letters that have a Cyrillic twin drawn the same. */
const CYRILLIC: Record<string, string> = { a: "\u0430", c: "\u0441", e: "\u0435", o: "\u043e", p: "\u0440", x: "\u0445", s: "\u0455", i: "\u0456" };
function cyrillic(name: string): string {
  const index = Array.from(name).findIndex((ch) => ch in CYRILLIC);
  if (index < 0) return `${name}\u0430`;
  const chars = Array.from(name);
  chars[index] = CYRILLIC[chars[index]!]!;
  return chars.join("");
}

/** Names that a careless comparison would take for `name`. */
function nearVariants(name: string): string[] {
  const first = Array.from(name)[0] ?? "";
  return [
    name.toUpperCase(),
    first.toUpperCase() + name.slice(first.length),
    `${name} `,
    ` ${name}`,
    `${name}\t`,
    `${name}\n`,
    `${name}\u00a0`,
    fullwidth(name),
    `${first}\u200d${name.slice(first.length)}`,
    `${name}\u200b`,
    `\ufeff${name}`,
    `${name}\u00ad`,
    cyrillic(name),
    `${name}\u0000`,
    `${name}\u2028`,
    `${name}\u{1F600}`,
  ];
}

function withVariants(bases: readonly string[]): string[] {
  return [...new Set(bases.flatMap((base) => [base, ...nearVariants(base)]))];
}

/** Pairs that are the same text to a human and to Unicode normalization, but not the same string. */
const NORMALIZATION_PAIRS = ["\u00e9cho", "e\u0301cho", "caf\u00e9", "cafe\u0301", "\u212bngstrom", "\u00c5ngstrom", "\ufb01le", "file"];

/** Names with glob metacharacters, as literal item names (a backend may well call a tool `echo*`). */
const LITERAL_METACHARACTERS = ["echo*", "ech?", "*", "?", "search_*"];

/** The plain names of each kind. */
export const BASE_NAMES: Readonly<Record<ItemKind, readonly string[]>> = {
  tool: ["echo", "search_docs", "delete_everything", "transfer"],
  prompt: ["summarize", "secret_plan"],
  resource: ["docs://public/readme", "docs://internal/roadmap"],
};

/** Candidate names per kind: the names backends list and callers ask for, and the names policies grant. */
export const NAMES: Readonly<Record<ItemKind, readonly string[]>> = {
  tool: [
    ...withVariants(BASE_NAMES.tool),
    ...NORMALIZATION_PAIRS,
    ...LITERAL_METACHARACTERS,
    LONG,
    `${LONG}y`,
    `echo${LONG}`,
    "",
    "tools/call",
    'quote"and\\backslash',
  ],
  prompt: [...withVariants(BASE_NAMES.prompt), ...NORMALIZATION_PAIRS, "summarize*", LONG, ""],
  resource: [
    ...withVariants(BASE_NAMES.resource),
    "DOCS://public/readme",
    "docs://Public/readme",
    "docs://public/readme?x=1",
    "docs://public/readme#top",
    "docs://public/../internal/roadmap",
    "docs://public/%2e%2e/internal/roadmap",
    "docs://internal/roadmap/",
    "file:///etc/passwd",
    "docs://public/{name}",
    "docs://internal/{name}",
    "docs://{path}",
    `docs://public/${LONG}`,
    "",
  ],
};

/** Names a request may carry but no policy file can hold (lone surrogates do not survive UTF-8). */
export const REQUEST_ONLY_NAMES: Readonly<Record<ItemKind, readonly string[]>> = {
  tool: ["\ud800echo", "echo\udfff"],
  prompt: ["summarize\ud83d"],
  resource: ["docs://public/\udc00"],
};

/** Glob patterns policies may grant, besides the exact names. */
export const PATTERNS: Readonly<Record<ItemKind, readonly string[]>> = {
  tool: ["search_*", "ech?", "e*o", "delete_*", "?", "*_docs", "*", "echo*", "*\u200b", "x*y"],
  prompt: ["summ*", "secret_?lan", "*"],
  resource: ["docs://public/*", "docs://*/readme", "docs://internal/*", "*", "docs://?ublic/*"],
};

/**
 * A name a request or a backend uses: weighted towards the plain names, so that grants and uses meet often, and
 * towards `favoured` names when given (e.g. those a run's policy grants, so that allowed uses are common too).
 */
export function nameArb(kind: ItemKind, options: { requestOnly?: boolean; favoured?: readonly string[] } = {}): fc.Arbitrary<string> {
  const arbitraries: fc.WeightedArbitrary<string>[] = [
    { arbitrary: fc.constantFrom(...BASE_NAMES[kind]), weight: 4 },
    { arbitrary: fc.constantFrom(...NAMES[kind]), weight: 5 },
    { arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }), weight: 1 },
  ];
  if (options.requestOnly) arbitraries.push({ arbitrary: fc.constantFrom(...REQUEST_ONLY_NAMES[kind]), weight: 1 });
  if (options.favoured && options.favoured.length > 0) {
    const favoured = fc.constantFrom(...options.favoured);
    arbitraries.push({ arbitrary: favoured, weight: 10 }, { arbitrary: favoured.chain((name) => fc.constantFrom(...nearVariants(name))), weight: 6 });
  }
  return fc.oneof(...arbitraries);
}

// ---------------------------------------------------------------------------------------------------------------
// Roles and claims
// ---------------------------------------------------------------------------------------------------------------

export const ROLES = ["admin", "employee", "finance", "guest", "Admin", "ADMIN", "admin\u200b", "\u0430dmin", "*"] as const;

/** How the token carries the roles: a list (possibly with non-strings in it), a space-separated string, or not at all. */
export type RolesClaim =
  | { form: "list"; roles: string[]; junk: boolean }
  | { form: "string"; roles: string[] }
  | { form: "absent" };

export const rolesClaimArb: fc.Arbitrary<RolesClaim> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ form: fc.constant("list" as const), roles: fc.subarray([...ROLES]), junk: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ form: fc.constant("string" as const), roles: fc.subarray([...ROLES], { minLength: 1 }) }) },
  { weight: 1, arbitrary: fc.constant({ form: "absent" as const }) },
);

/** The claims to sign into the token. */
export function tokenClaims(claim: RolesClaim): Record<string, unknown> {
  if (claim.form === "absent") return {};
  if (claim.form === "string") return { roles: claim.roles.join(" ") };
  return { roles: claim.junk ? [42, ...claim.roles, null] : claim.roles };
}

// ---------------------------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------------------------

const SECTION: Record<ItemKind, "tools" | "prompts" | "resources"> = { tool: "tools", prompt: "prompts", resource: "resources" };

/** A native grant: a name or pattern, the roles allowed ("*": anyone), and how the roles are written. */
export interface Grant {
  kind: ItemKind;
  pattern: string;
  roles: string[];
  form: "list" | "string" | "object";
}

/** A CEL rule on one exact name (`mcp.<kind>.name == "..."`), optionally also requiring a role in the roles claim. */
export interface NameRule {
  effect: "allow" | "deny";
  kind: ItemKind;
  name: string;
  role: string | undefined;
  /** For resources: `mcp.resource.uri` instead of `mcp.resource.name` (both hold the URI). */
  viaUri: boolean;
  /** An allow written as a bare CEL string rather than `{ allow: ... }`. */
  bare: boolean;
}

export interface PolicyModel {
  grants: Grant[];
  rules: NameRule[];
  /** Where the CEL rules go: `rules`, agentgateway's `mcpAuthorization.rules`, or split between both. */
  placement: "rules" | "mcpAuthorization" | "both";
  format: "yaml" | "json";
}

function grantArb(kind: ItemKind): fc.Arbitrary<Grant> {
  return fc.record({
    kind: fc.constant(kind),
    pattern: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...BASE_NAMES[kind]) },
      { weight: 3, arbitrary: fc.constantFrom(...NAMES[kind].filter((n) => n !== "")) },
      { weight: 2, arbitrary: fc.constantFrom(...PATTERNS[kind]) },
    ),
    roles: fc.subarray([...ROLES], { minLength: 1, maxLength: 3 }),
    form: fc.constantFrom("list" as const, "string" as const, "object" as const),
  }).map((grant) => (grant.form === "string" ? { ...grant, roles: grant.roles.slice(0, 1) } : grant));
}

function nameRuleArb(kind: ItemKind): fc.Arbitrary<NameRule> {
  return fc.record({
    effect: fc.constantFrom("allow" as const, "deny" as const),
    kind: fc.constant(kind),
    name: fc.oneof(fc.constantFrom(...BASE_NAMES[kind]), fc.constantFrom(...NAMES[kind])),
    role: fc.option(fc.constantFrom(...ROLES), { nil: undefined }),
    viaUri: fc.boolean(),
    bare: fc.boolean(),
  });
}

export const policyArb: fc.Arbitrary<PolicyModel> = fc.record({
  grants: fc.uniqueArray(fc.oneof(...KINDS.map(grantArb)), { maxLength: 10, selector: (g) => `${g.kind}\u0000${g.pattern}` }),
  rules: fc.array(fc.oneof(...KINDS.map(nameRuleArb)), { maxLength: 4 }),
  placement: fc.constantFrom("rules" as const, "mcpAuthorization" as const, "both" as const),
  format: fc.constantFrom("yaml" as const, "json" as const),
});

/**
 * A policy and a caller, where the policy often grants the caller something (a policy generated alone mostly grants
 * other roles), so that allowed uses are as common as denied ones.
 */
export const policyAndCallerArb: fc.Arbitrary<{ policy: PolicyModel; claim: RolesClaim }> = fc
  .record({ policy: policyArb, claim: rolesClaimArb })
  .chain(({ policy, claim }) => {
    const roles = [...callerRoles(claim), "*"];
    const grantToCaller = fc.constantFrom(...KINDS).chain((kind) =>
      fc.record({
        kind: fc.constant(kind),
        pattern: fc.oneof(fc.constantFrom(...BASE_NAMES[kind]), fc.constantFrom(...NAMES[kind].filter((n) => n !== ""))),
        roles: fc.constantFrom(...roles).map((role) => [role]),
        form: fc.constant("list" as const),
      }),
    );
    return fc.array(grantToCaller, { maxLength: 3 }).map((extra) => {
      const grants = [...policy.grants];
      for (const grant of extra) if (!grants.some((g) => g.kind === grant.kind && g.pattern === grant.pattern)) grants.push(grant);
      return { policy: { ...policy, grants }, claim };
    });
  });

/** A CEL string literal for any text without lone surrogates. */
export function celString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f || code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function celCondition(rule: NameRule): string {
  const field = rule.kind === "resource" && rule.viaUri ? "uri" : "name";
  const name = `mcp.${rule.kind}.${field} == ${celString(rule.name)}`;
  return rule.role === undefined ? name : `${name} && ${celString(rule.role)} in jwt.roles`;
}

/** The policy document's text, as a policy admin would write it in YAML or JSON. */
export function renderPolicy(model: PolicyModel): string {
  const document: Record<string, unknown> = {};
  for (const grant of model.grants) {
    const section = (document[SECTION[grant.kind]] ??= {}) as Record<string, unknown>;
    section[grant.pattern] = grant.form === "string" ? grant.roles[0] : grant.form === "object" ? { roles: grant.roles } : grant.roles;
  }
  const rules = model.rules.map((rule) =>
    rule.effect === "deny" ? { deny: celCondition(rule) } : rule.bare ? celCondition(rule) : { allow: celCondition(rule) },
  );
  if (rules.length > 0) {
    const split = model.placement === "rules" ? rules.length : model.placement === "mcpAuthorization" ? 0 : Math.ceil(rules.length / 2);
    if (split > 0) document.rules = rules.slice(0, split);
    if (split < rules.length) document.mcpAuthorization = { rules: rules.slice(split) };
  }
  return model.format === "json" ? JSON.stringify(document, null, 2) : toYaml(document);
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------------------------

/** Documented glob semantics, on characters (code points): `*` any run, `?` exactly one, anything else itself. */
export function globMatches(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const n = Array.from(name);
  let pi = 0;
  let ni = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (ni < n.length) {
    if (pi < p.length && (p[pi] === "?" || (p[pi] !== "*" && p[pi] === n[ni]))) {
      pi++;
      ni++;
    } else if (pi < p.length && p[pi] === "*") {
      starAt = pi++;
      resumeAt = ni;
    } else if (starAt >= 0) {
      pi = starAt + 1;
      ni = ++resumeAt;
    } else {
      return false;
    }
  }
  while (p[pi] === "*") pi++;
  return pi === p.length;
}

/** The roles the README says a caller has: those of the list (strings only), or the words of the string. */
export function callerRoles(claim: RolesClaim): Set<string> {
  return new Set(claim.form === "absent" ? [] : claim.roles);
}

/** `"r" in jwt.roles` holds only when the claim is a list holding r (on a string it is a CEL error, i.e. false). */
function claimListHolds(claim: RolesClaim, role: string): boolean {
  return claim.form === "list" && claim.roles.includes(role);
}

function ruleHolds(rule: NameRule, claim: RolesClaim, kind: ItemKind, name: string): boolean {
  return rule.kind === kind && rule.name === name && (rule.role === undefined || claimListHolds(claim, rule.role));
}

/** The README: percent-decoding of a URI, each `%XX` its byte, the bytes read as UTF-8 (U+FFFD for what is not). */
export function percentDecodedUri(uri: string): string {
  const bytes = Buffer.from(uri, "utf8");
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const hex = String.fromCharCode(bytes[i + 1] ?? 0, bytes[i + 2] ?? 0);
    if (bytes[i] === 0x25 && /^[0-9a-f]{2}$/i.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      out.push(bytes[i]!);
    }
  }
  return Buffer.from(out).toString("utf8");
}

/** The README: a resource URI with dot segments (`.` or `..`, percent-encoded or not) is always denied. */
export function hasDotSegment(uri: string): boolean {
  return [uri, percentDecodedUri(uri)].some((text) => text.split(/[/\\]/).some((segment) => [".", ".."].includes(segment.split(/[?#]/)[0] as string)));
}

/** The README: so is one with control characters (C0, DEL, C1), Unicode White_Space or backslashes. */
const REFUSED_IN_URIS = /[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\\]/;
export function hasRefusedUriCharacter(uri: string): boolean {
  return REFUSED_IN_URIS.test(uri);
}

/**
 * The README's readings of a resource URI, each judged by the policy: as sent, WHATWG-normalised, percent-decoded,
 * decoded then WHATWG-normalised, WHATWG-normalised then decoded (a URI WHATWG cannot parse has no WHATWG reading).
 */
export function uriReadings(uri: string): string[] {
  const whatwg = (text: string) => (URL.canParse(text) ? new URL(text).href : undefined);
  const normalised = whatwg(uri);
  const readings = [uri, normalised, percentDecodedUri(uri), whatwg(percentDecodedUri(uri)), normalised === undefined ? undefined : percentDecodedUri(normalised)];
  return [...new Set(readings.filter((reading): reading is string => reading !== undefined))];
}

/**
 * May this caller see and use this item? The README's decision: any deny that holds denies; a policy with deny
 * rules but no allow rule allows the rest; otherwise an allow (native grant or CEL allow) must hold; a policy with
 * no rules at all denies everything. A resource must be allowed under every reading of its URI, but a resource
 * template (`template`: a `uriTemplate` of a template list) is judged as written.
 */
export function mayUse(policy: PolicyModel, claim: RolesClaim, kind: ItemKind, name: string, options: { template?: boolean } = {}): boolean {
  if (kind !== "resource") return mayUseAsWritten(policy, claim, kind, name);
  if (hasDotSegment(name) || hasRefusedUriCharacter(name)) return false;
  const readings = options.template ? [name] : uriReadings(name);
  return readings.every((reading) => !hasDotSegment(reading) && mayUseAsWritten(policy, claim, kind, reading, options.template === true));
}

/**
 * What a grant's pattern matches: a glob, or for resources a URI template (a key with braces): the template as
 * written in template lists, and each URI whose {name} parts are one or more characters other than / ? #.
 */
export function grantMatches(grant: { kind: ItemKind; pattern: string }, name: string, template: boolean): boolean {
  if (grant.kind !== "resource" || !/[{}]/.test(grant.pattern)) return globMatches(grant.pattern, name);
  if (template) return name === grant.pattern;
  const body = grant.pattern
    .split(/(\{[^{}]*\})/)
    .map((part, i) => (i % 2 === 1 ? "[^/?#]+" : part.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "u").test(name);
}

function mayUseAsWritten(policy: PolicyModel, claim: RolesClaim, kind: ItemKind, name: string, template = false): boolean {
  const allowRules = policy.grants.length + policy.rules.filter((r) => r.effect === "allow").length;
  const denyRules = policy.rules.filter((r) => r.effect === "deny");
  if (allowRules + denyRules.length === 0) return false;
  if (denyRules.some((rule) => ruleHolds(rule, claim, kind, name))) return false;
  if (allowRules === 0) return true;
  const roles = callerRoles(claim);
  const granted = policy.grants.some(
    (grant) => grant.kind === kind && grantMatches(grant, name, template) && (grant.roles.includes("*") || grant.roles.some((role) => roles.has(role))),
  );
  return granted || policy.rules.some((rule) => rule.effect === "allow" && ruleHolds(rule, claim, kind, name));
}

/** The candidate names of a kind this caller may use under this policy (to favour them in generation only). */
export function usableNames(policy: PolicyModel, claim: RolesClaim, kind: ItemKind): string[] {
  return NAMES[kind].filter((name) => mayUse(policy, claim, kind, name));
}

// ---------------------------------------------------------------------------------------------------------------
// List answers: items, pages and their framing (JSON or SSE), as a backend writes them
// ---------------------------------------------------------------------------------------------------------------

/** Result key, item kind, and the field the policy matches (MCP's list result shapes). */
export type Shape = readonly [key: string, kind: ItemKind, field: string];
export const SHAPES: readonly Shape[] = [
  ["tools", "tool", "name"],
  ["prompts", "prompt", "name"],
  ["resources", "resource", "uri"],
  ["resourceTemplates", "resource", "uriTemplate"],
];
export const LIST_METHODS: Readonly<Record<string, Shape>> = {
  "tools/list": SHAPES[0]!,
  "prompts/list": SHAPES[1]!,
  "resources/list": SHAPES[2]!,
  "resources/templates/list": SHAPES[3]!,
};

/** Names this run's caller may use, by kind, favoured in generation so that lists keep items often enough. */
export type Favoured = Record<ItemKind, string[]>;

export function itemArb([, kind, field]: Shape, favoured: Favoured): fc.Arbitrary<unknown> {
  const valid = fc.tuple(nameArb(kind, { favoured: favoured[kind] }), fc.constantFrom(...NAMES.tool)).map(([name, label]) =>
    field === "name" ? { name, description: `about ${label}`, inputSchema: { type: "object" } } : { [field]: name, name: label, mimeType: "text/plain" },
  );
  // Items the gateway cannot judge: they must not reach the caller either.
  const unjudgeable = fc.constantFrom<unknown>({ [field]: 42 }, {}, "echo", null, { [field]: null }, { [field]: ["echo"] }, []);
  return fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: unjudgeable });
}

/** A second list in the same result (a tools/list result also holding `prompts`, ...). */
export function smuggledArb(favoured: Favoured): fc.Arbitrary<{ key: string; items: unknown[] }> {
  return fc.constantFrom(...SHAPES).chain((shape) => fc.record({ key: fc.constant(shape[0]), items: fc.array(itemArb(shape, favoured), { maxLength: 4 }) }));
}

export const EOLS = ["\n", "\r\n", "\r"] as const;

/** How one SSE event is written. */
export interface EventFormat {
  eol: (typeof EOLS)[number];
  eventField: boolean;
  id: string | undefined;
  comment: boolean;
  retry: boolean;
  /** The JSON pretty-printed over several data lines. */
  multiline: boolean;
  /** `data: x` or `data:x`. */
  space: boolean;
}

export const eventFormatArb: fc.Arbitrary<EventFormat> = fc.record({
  eol: fc.constantFrom(...EOLS),
  eventField: fc.boolean(),
  id: fc.option(fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/), { nil: undefined }),
  comment: fc.boolean(),
  retry: fc.boolean(),
  multiline: fc.boolean(),
  space: fc.boolean(),
});

/** Events around the result: priming, comments, retry, notifications, server requests, unreadable data, unasked lists. */
export type SideEvent =
  | { type: "priming"; id: string; bareData: boolean }
  | { type: "comment" }
  | { type: "retry" }
  | { type: "message"; message: unknown }
  | { type: "unreadable"; data: string }
  | { type: "unasked list"; key: string; items: unknown[] };

export function sideEventArb(favoured: Favoured): fc.Arbitrary<[SideEvent, EventFormat]> {
  const content = fc.oneof(
    fc.record({ type: fc.constant("priming" as const), id: fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), bareData: fc.boolean() }),
    fc.constant({ type: "comment" as const }),
    fc.constant({ type: "retry" as const }),
    fc.constantFrom<SideEvent>(
      { type: "message", message: { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 0.5 } } },
      // Not a result: a list-like payload anywhere else is not a list, and passes as it is.
      { type: "message", message: { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: { tools: [{ name: "delete_everything" }] } } } },
      { type: "message", message: { jsonrpc: "2.0", method: "notifications/tools/list_changed" } },
      { type: "message", message: { jsonrpc: "2.0", id: "s1", method: "roots/list" } },
    ),
    fc.record({ type: fc.constant("unreadable" as const), data: fc.constantFrom("not json", '{"jsonrpc":"2.0"', "NaN", "{'a':1}", "[1,]") }),
    fc.constantFrom(...SHAPES).chain((shape) =>
      fc.record({ type: fc.constant("unasked list" as const), key: fc.constant(shape[0]), items: fc.array(itemArb(shape, favoured), { maxLength: 4 }) }),
    ),
  );
  return fc.tuple(content, eventFormatArb);
}

export type Framing =
  | { type: "json"; contentType: string; pretty: boolean }
  | {
      type: "sse";
      contentType: string;
      /** Labelled as something other than an event stream: not JSON either, so it must be refused (502). */
      mislabelled: boolean;
      before: [SideEvent, EventFormat][];
      after: [SideEvent, EventFormat][];
      /** Formats of the response events (one per response; a batch answer may also come as one event). */
      formats: EventFormat[];
      batchInOneEvent: boolean;
      /** The stream's last event has no terminating blank line. */
      unterminated: boolean;
    };

/** Labels a client may still read as JSON or as an event stream (some compare prefixes), or none at all. */
export const MISLABELS = ["application/json-rpc", "application/jsonl", "text/plain", "application/vnd.api+json", "text/event-streamx", "application/octet-stream", ""];

export function framingArb(favoured: Favoured): fc.Arbitrary<Framing> {
  const json = fc.record({
    type: fc.constant("json" as const),
    // Any JSON body is filtered, whatever its label.
    contentType: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8", "Application/JSON") },
      { weight: 1, arbitrary: fc.constantFrom(...MISLABELS, "application/json, text/plain") },
    ),
    pretty: fc.boolean(),
  });
  const sse = fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }).chain((mislabelled) =>
    fc.record({
      type: fc.constant("sse" as const),
      mislabelled: fc.constant(mislabelled),
      contentType: mislabelled
        ? fc.constantFrom(...MISLABELS, "application/json", "text/event-stream, text/plain")
        : fc.constantFrom("text/event-stream", "text/event-stream; charset=utf-8", "Text/Event-Stream"),
      before: fc.array(sideEventArb(favoured), { maxLength: 3 }),
      after: fc.array(sideEventArb(favoured), { maxLength: 2 }),
      formats: fc.array(eventFormatArb, { minLength: 2, maxLength: 2 }),
      batchInOneEvent: fc.boolean(),
      unterminated: fc.boolean(),
    }),
  );
  return fc.oneof(json, sse);
}

export interface Page {
  items: unknown[];
  smuggled: { key: string; items: unknown[] } | undefined;
  framing: Framing;
  /** Where the body is cut into chunks, as fractions of its length in bytes. */
  cuts: number[];
}

export function pageArb(shape: Shape, favoured: Favoured): fc.Arbitrary<Page> {
  return fc.record({
    items: fc.array(itemArb(shape, favoured), { maxLength: 8 }),
    smuggled: fc.option(smuggledArb(favoured), { nil: undefined, freq: 4 }),
    framing: framingArb(favoured),
    cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Raw JSON text
// ---------------------------------------------------------------------------------------------------------------

/**
 * A JSON string literal for `text`, escaping each character `\uXXXX` where `escape(index)` says so (lone surrogates
 * always), so the same value reaches JSON parsers in many spellings.
 */
export function jsonString(text: string, escape: (index: number) => boolean = () => false): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const high = unit >= 0xd800 && unit <= 0xdbff;
    const low = unit >= 0xdc00 && unit <= 0xdfff;
    const paired = (high && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff) || (low && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff);
    const lone = (high || low) && !paired;
    if (lone || (escape(i) && !high && !low)) out += `\\u${unit.toString(16).padStart(4, "0")}`;
    else if (text[i] === '"' || text[i] === "\\") out += `\\${text[i]}`;
    else if (unit < 0x20) out += `\\u${unit.toString(16).padStart(4, "0")}`;
    else out += text[i];
  }
  return `${out}"`;
}
