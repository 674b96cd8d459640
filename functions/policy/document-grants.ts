/**
 * The native grants of a policy document, one by one, for compile and lint alike: those of the top-level `tools`,
 * `prompts` and `resources` sections, which apply to the items of every server, then those under
 * `servers.<name>`, which apply to that server's items only. Each comes with the origin decisions and findings name
 * it by (`policy.yaml tools.echo`, `policy.yaml servers.github.tools.search_*`) and its place in the document.
 */
import type { GrantDefinition, PolicyDocument } from "./document.js";
import type { ItemKind } from "./types.js";

export interface DocumentGrant {
  /** Where the grant is written: the document's origin, then its place, e.g. `p.yaml servers.github.tools.search_*`. */
  origin: string;
  kind: ItemKind;
  /** The server whose items the grant applies to; undefined for a top-level grant (the items of every server). */
  server: string | undefined;
  /** The grant's key: an exact name, a glob, or (resources) a URI template. */
  pattern: string;
  definition: GrantDefinition;
  /** The grant's place in the document: `["tools", "echo"]`, `["servers", "github", "tools", "search_*"]`. */
  path: readonly string[];
}

type Sections = Pick<PolicyDocument, "tools" | "prompts" | "resources">;

const SECTIONS: ReadonlyArray<readonly ["tools" | "prompts" | "resources", ItemKind]> = [
  ["tools", "tool"],
  ["prompts", "prompt"],
  ["resources", "resource"],
];

function sectionGrants(origin: string, sections: Sections, server: string | undefined, at: readonly string[]): DocumentGrant[] {
  return SECTIONS.flatMap(([section, kind]) =>
    Object.entries(sections[section] ?? {}).map(([pattern, definition]) => {
      const path = [...at, section, pattern];
      return { origin: `${origin} ${path.join(".")}`, kind, server, pattern, definition, path };
    }),
  );
}

/** Every native grant of the document: the top-level sections' first (tools, prompts, resources), then each server's. */
export function documentGrants(origin: string, document: PolicyDocument): DocumentGrant[] {
  return [
    ...sectionGrants(origin, document, undefined, []),
    ...Object.entries(document.servers ?? {}).flatMap(([server, sections]) => sectionGrants(origin, sections, server, ["servers", server])),
  ];
}

/**
 * For lint, which asks about servers it may not know: whether a grant of `grantServer` (undefined: top-level) may
 * apply to an item of `server`, where undefined is a server not known, so possibly any. (A decision knows: an item of
 * no server is matched by no server's grant.)
 */
export function mayApplyOnServer(grantServer: string | undefined, server: string | undefined): boolean {
  return grantServer === undefined || server === undefined || grantServer === server;
}
