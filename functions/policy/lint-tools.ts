/**
 * Lint against the backends' tool lists (`policy validate --tools`): grants whose pattern matches no tool, tools no
 * rule could ever allow, rules about tools no list has, and `servers.<name>` sections naming a server the lists do
 * not have. The lists are either each server's, by name, or one list of a backend whose server is not named: then
 * any server's grants may be its grants, and a rule reading the target may hold for it.
 */
import { couldHoldForAnyone } from "./cel-condition.js";
import type { NamedPolicyDocument } from "./document.js";
import { mayApplyOnServer, type DocumentGrant } from "./document-grants.js";
import { grantPattern } from "./grant-pattern.js";
import { rulesNamingUnknownTools, type LintedRule, type RuleFinding } from "./lint-conditions.js";
import type { SourcePosition } from "./yaml-position.js";

/** One backend's tools: the server's name, or undefined for a list whose server is not named. */
export interface ToolList {
  server: string | undefined;
  tools: readonly string[];
}

type ToolGrant = Pick<DocumentGrant, "origin" | "kind" | "server" | "pattern">;

/** What no tool of the lists a grant may apply to matches, in the words of a finding. */
function noToolOf(grant: ToolGrant, lists: readonly ToolList[]): string {
  if (lists.every((list) => list.server === undefined)) return "matches no tool of the backend";
  if (grant.server !== undefined) return `matches no tool of server ${grant.server}`;
  return `matches no tool of any server (${lists.map((list) => list.server).join(", ")})`;
}

/** Tool grants that match no tool, tools that no grant or allow rule could allow, rules about unlisted tools. */
export function toolListFindings(grants: readonly ToolGrant[], rules: readonly LintedRule[], lists: readonly ToolList[]): RuleFinding[] {
  const listed = new Set(lists.map((list) => list.server));
  const toolGrants = grants
    .filter((grant) => grant.kind === "tool")
    .map((grant) => ({ grant, pattern: grantPattern("tool", grant.pattern) }));
  const findings: RuleFinding[] = toolGrants
    // A section naming a server no list has is reported once, as such (unlistedServers).
    .filter(({ grant }) => grant.server === undefined || listed.has(grant.server) || listed.has(undefined))
    .filter(({ grant, pattern }) => !lists.some((list) => mayApplyOnServer(grant.server, list.server) && list.tools.some((tool) => pattern.matches(tool, false))))
    .map(({ grant }) => ({ origin: grant.origin, message: noToolOf(grant, lists) }));
  const allowRules = rules.filter((rule) => rule.effect === "allow");
  const onlyDenies = rules.length > 0 && allowRules.length === 0 && grants.length === 0;
  for (const list of onlyDenies ? [] : lists) {
    for (const tool of list.tools) {
      const item = { kind: "tool" as const, name: tool, target: list.server };
      const granted = toolGrants.some(({ grant, pattern }) => mayApplyOnServer(grant.server, list.server) && pattern.matches(tool, false));
      if (!granted && !allowRules.some((rule) => couldHoldForAnyone(rule.ast, item))) {
        const origin = list.server === undefined ? `tool ${tool}` : `server ${list.server} tool ${tool}`;
        findings.push({ origin, message: "is matched by no rule: nobody can see or call it" });
      }
    }
  }
  const missingFrom = listed.has(undefined) ? "the backend does not have" : "no server has";
  return [...findings, ...rulesNamingUnknownTools(rules, lists.flatMap((list) => list.tools), missingFrom)];
}

/** `servers.<name>` sections naming a server that none of the lists is of (when the lists name their servers). */
export function unlistedServers(documents: readonly NamedPolicyDocument[], lists: readonly ToolList[]): Array<RuleFinding & { position?: SourcePosition }> {
  if (lists.some((list) => list.server === undefined)) return [];
  const listed = lists.map((list) => list.server);
  return documents.flatMap((document) =>
    Object.keys(document.document.servers ?? {})
      .filter((server) => !listed.includes(server))
      .map((server) => ({
        origin: `${document.origin} servers.${server}`,
        message: `names a server the tool lists do not have (they list ${listed.join(", ")}): unless the gateway has a server of that name, its grants apply to nothing`,
        position: document.locate?.({ path: ["servers", server], key: true }),
      })),
  );
}
