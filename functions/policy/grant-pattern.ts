/**
 * What the key of a native grant matches, for compile and lint alike: an exact name, a glob (`*` any run of
 * characters, `?` one), or, for resources, a URI template (uri-template.ts): the template as written where templates
 * are judged, and the URIs it expands to.
 */
import { PolicyError } from "../errors.js";
import { globToRegExp, isGlobPattern, literalPrefix } from "./glob.js";
import type { ItemRef } from "./rule-scope.js";
import type { ItemKind } from "./types.js";
import { exampleExpansion, expansionsOf, isTemplateKey, readTemplateKey, templatePrefix } from "./uri-template.js";

export interface GrantPattern {
  /** "exact", "glob" or "template" (a resource template grant), for messages and lint. */
  form: "exact" | "glob" | "template";
  /** Whether the key matches this name; `template`: the name is a uriTemplate, judged as written. */
  matches(name: string, template: boolean): boolean;
  /** The items the key can match, to file the grant in the rule index (rule-index.ts). */
  appliesTo: ItemRef;
  /** A name the key matches (each wildcard or variable `x`), for lint; undefined when it matches none. */
  example: string | undefined;
}

const NOTHING: Omit<GrantPattern, "appliesTo"> = { form: "template", matches: () => false, example: undefined };

/** The pattern of a grant key; throws PolicyError for a template key the document schema refuses. */
export function grantPattern(kind: ItemKind, key: string): GrantPattern {
  if (kind === "resource" && isTemplateKey(key)) {
    const read = readTemplateKey(key);
    if (read.kind === "refused") throw new PolicyError(`${key}: ${read.reason}`);
    if (read.kind === "matches nothing") return { ...NOTHING, appliesTo: { kind, name: key } };
    const expansions = expansionsOf(read.parts);
    const prefix = templatePrefix(read.parts);
    return {
      form: "template",
      matches: (name, template) => (template ? name === key : expansions.test(name)),
      appliesTo: prefix ? { kind, prefix } : { kind },
      example: exampleExpansion(read.parts),
    };
  }
  if (!isGlobPattern(key)) return { form: "exact", matches: (name) => name === key, appliesTo: { kind, name: key }, example: key };
  const glob = globToRegExp(key);
  return {
    form: "glob",
    matches: (name) => glob.test(name),
    appliesTo: { kind, prefix: literalPrefix(key) },
    example: key.replace(/[*?]/g, "x"),
  };
}
