/**
 * Lint of native grants that can match nothing the gateway would be asked, or that grant nothing to any token:
 *
 * - a resource template with `{}`, which names no variable;
 * - a resource grant that is not a URI (MCP names resources by URI: `public/*`, `readme`), or whose URIs are never
 *   allowed: a dot segment, whitespace, a control character or a backslash in its text, or a reading a backend may
 *   make of it (`FILE:///x` is also read as `file:///x`) that no grant or allow rule matches (resource-decision.ts
 *   applies every grant to every reading, so such a grant allows nothing on its own);
 * - a name with leading or trailing whitespace, which MCP names do not have (a copy-paste slip);
 * - an exact grant whose `when` condition can hold for no caller and no arguments on the one item it names
 *   (`transfer: { roles: [a], when: 'mcp.tool.name == "tranfser"' }`);
 * - a role name with a comma (`"admin, employee"` is one role, not two) or with leading or trailing whitespace.
 *
 * Each is checked on one name the grant matches (each wildcard or variable `x`): the text the grant fixes is what can
 * be wrong with every name it matches, and `x` adds no dot segment, no refused character and no escape.
 */
import { celSyntaxTree, couldHoldForAnyone } from "./cel-condition.js";
import type { GrantDefinition } from "./document.js";
import { mayApplyOnServer } from "./document-grants.js";
import { grantPattern, type GrantPattern } from "./grant-pattern.js";
import { literalPrefix } from "./glob.js";
import { decideResource } from "./resource-decision.js";
import type { ASTNode } from "@marcbachmann/cel-js";
import type { ItemKind } from "./types.js";
import { isTemplateKey, readTemplateKey } from "./uri-template.js";

export interface LintedGrant {
  origin: string;
  kind: ItemKind;
  /** The server whose items the grant applies to (`servers.<name>`); undefined for a top-level grant. */
  server: string | undefined;
  pattern: string;
  definition: GrantDefinition;
}

/** What lint needs of the allow rules: their syntax trees. */
export interface LintedAllowRule {
  ast: ASTNode;
}

export interface GrantFinding {
  grant: LintedGrant;
  message: string;
  /** The finding is about a role of the grant (its value), not its key. */
  aboutRoles?: true;
}

/** A scheme (RFC 3986: a letter, then letters, digits, + - .) and its colon: a URI starts so. */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** Text that can still become a scheme and its colon (no character yet that a scheme cannot have). */
const SCHEME_SO_FAR = /^(?:[A-Za-z][A-Za-z0-9+.-]*)?$/;

/** Why no URI can match the grant's key, or undefined when some may. */
function notAUri(pattern: GrantPattern, key: string): string | undefined {
  if (pattern.form === "glob") {
    const prefix = literalPrefix(key);
    if (SCHEME.test(prefix) || SCHEME_SO_FAR.test(prefix)) return undefined;
    return `cannot match a URI: every name it matches starts with ${JSON.stringify(prefix)}, which is no URI scheme (such as docs:), and MCP names resources by URI`;
  }
  const example = pattern.example!;
  if (!SCHEME.test(example)) return `is not a URI: it has no scheme (such as docs:), and MCP names resources by URI, so no resource a backend serves has it`;
  try {
    new URL(example);
    return undefined;
  } catch {
    return `is not a URI a backend can parse (new URL(${JSON.stringify(example)}) fails), so no resource a backend serves has it`;
  }
}

/**
 * Whether any resource grant (whatever its roles) or allow rule could allow this string as a URI to read on `server`
 * (undefined: a server not known); `grants` are those that may apply there.
 */
function coveredBy(grants: readonly GrantPattern[], allowRules: readonly LintedAllowRule[], uri: string, server: string | undefined): boolean {
  return grants.some((grant) => grant.matches(uri, false)) || allowRules.some((rule) => couldHoldForAnyone(rule.ast, { kind: "resource", name: uri, target: server }));
}

function resourceFindings(grant: LintedGrant, pattern: GrantPattern, others: readonly GrantPattern[], allowRules: readonly LintedAllowRule[]): string[] {
  if (isTemplateKey(grant.pattern)) {
    const read = readTemplateKey(grant.pattern);
    if (read.kind === "matches nothing") return [`can match nothing: ${read.reason}`];
  }
  const example = pattern.example!;
  const decision = decideResource({ kind: "resource", name: example }, (reading) =>
    coveredBy(others, allowRules, reading.name, grant.server)
      ? { allowed: true, rule: undefined, explanation: "" }
      : { allowed: false, rule: undefined, explanation: "no resource grant or allow rule matches it" },
  );
  if (!decision.allowed) {
    const subject = pattern.form === "exact" ? JSON.stringify(example) : `every URI it matches (such as ${JSON.stringify(example)})`;
    return [`grants no read: ${subject}: ${decision.explanation}`];
  }
  const uri = notAUri(pattern, grant.pattern);
  return uri ? [uri] : [];
}

/** Roles a token can hardly carry as written. */
function roleFindings(grant: LintedGrant): GrantFinding[] {
  return grant.definition.roles.flatMap((role): GrantFinding[] => {
    if (role !== "*" && role.includes(",")) {
      const parts = role.split(",").map((part) => part.trim()).filter(Boolean);
      return [{ grant, aboutRoles: true, message: `grants the one role ${JSON.stringify(role)}; for several roles, list them: [${parts.join(", ")}]` }];
    }
    if (role.trim() !== role) return [{ grant, aboutRoles: true, message: `grants the role ${JSON.stringify(role)}, whose leading or trailing whitespace a token's role would need too` }];
    return [];
  });
}

/** Findings for every grant of a policy; `allowRules` are the policy's CEL allow rules. */
export function grantFindings(grants: readonly LintedGrant[], allowRules: readonly LintedAllowRule[]): GrantFinding[] {
  const patterns = grants.map((grant) => grantPattern(grant.kind, grant.pattern));
  // The resource grants that may judge a reading of the grant's URIs: another server's grant never does.
  const resourcePatternsOn = (server: string | undefined) =>
    patterns.filter((_, index) => grants[index]!.kind === "resource" && mayApplyOnServer(grants[index]!.server, server));
  return grants.flatMap((grant, index) => {
    const pattern = patterns[index]!;
    const own: string[] = [];
    if (grant.kind === "resource") own.push(...resourceFindings(grant, pattern, resourcePatternsOn(grant.server), allowRules));
    else if (grant.pattern.trim() !== grant.pattern) {
      own.push(`has leading or trailing whitespace, which ${grant.kind} names do not have: it matches only a name written with it`);
    }
    const when = grant.definition.when;
    const item = { kind: grant.kind, name: grant.pattern, target: grant.server };
    if (when !== undefined && pattern.form === "exact" && !couldHoldForAnyone(celSyntaxTree(`${grant.origin}.when`, when), item)) {
      own.push(`grants nothing: its when condition can hold for no caller and no arguments on ${grant.kind} ${JSON.stringify(grant.pattern)}${grant.server === undefined ? "" : ` of server ${grant.server}`}`);
    }
    return [...own.map((message) => ({ grant, message })), ...roleFindings(grant)];
  });
}
