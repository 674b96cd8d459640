/**
 * What one version of a policy document changed from the one before, in a line of `policy history`: the lines added
 * and removed, and, when both versions read as YAML, the grants, rules and settings that changed
 * (`+1 -0 lines: tools.add added`), so versions can be told apart without pulling each one.
 */
import { diffLines } from "diff";
import { parseYaml } from "../../policy/yaml.js";

/** The native sections, each a map of names or patterns to grants. */
const GRANT_SECTIONS = ["tools", "prompts", "resources"] as const;
/** Changes named in one line at most; the rest are counted. */
const MAX_NAMED = 4;

type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping => typeof value === "object" && value !== null && !Array.isArray(value);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The document as YAML, or undefined when it does not read as a mapping (a broken version is still listed). */
function readMapping(text: string): Mapping | undefined {
  try {
    const value = parseYaml(text);
    return isMapping(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `tools.echo added`, `prompts.summarize changed`...: per name, in the order the new version lists them. */
function grantChanges(section: string, before: unknown, after: unknown): string[] {
  const old = isMapping(before) ? before : {};
  const now = isMapping(after) ? after : {};
  const changes: string[] = [];
  for (const [name, grant] of Object.entries(now)) {
    if (!Object.hasOwn(old, name)) changes.push(`${section}.${name} added`);
    else if (!same(old[name], grant)) changes.push(`${section}.${name} changed`);
  }
  for (const name of Object.keys(old)) if (!Object.hasOwn(now, name)) changes.push(`${section}.${name} removed`);
  return changes;
}

/** The CEL rules of a document, in both of the places a document may hold them. */
function rulesOf(document: Mapping): string[] {
  const block = isMapping(document.mcpAuthorization) ? document.mcpAuthorization.rules : undefined;
  return [document.rules, block].flatMap((rules) => (Array.isArray(rules) ? rules.map((rule) => JSON.stringify(rule)) : []));
}

/** Rules added and removed, counted as lists of texts (a reordering alone is no change). */
function ruleChanges(before: Mapping, after: Mapping): string[] {
  const remaining = rulesOf(before);
  let added = 0;
  for (const rule of rulesOf(after)) {
    const at = remaining.indexOf(rule);
    if (at < 0) added++;
    else remaining.splice(at, 1);
  }
  const count = (n: number, what: string) => (n === 0 ? [] : [`${n} rule${n === 1 ? "" : "s"} ${what}`]);
  return [...count(added, "added"), ...count(remaining.length, "removed")];
}

/** Any other top-level setting (`dryRun`, `description`...): named with its new value when that is short. */
function settingChanges(before: Mapping, after: Mapping): string[] {
  const ignored = new Set<string>([...GRANT_SECTIONS, "rules", "mcpAuthorization"]);
  const keys = [...new Set([...Object.keys(after), ...Object.keys(before)])].filter((key) => !ignored.has(key));
  return keys.flatMap((key) => {
    if (same(before[key], after[key])) return [];
    if (!Object.hasOwn(after, key)) return [`${key} removed`];
    const value = JSON.stringify(after[key]);
    return [value.length <= 20 ? `${key} ${value}` : `${key} changed`];
  });
}

function meaningChanges(previous: string, current: string): string {
  const before = readMapping(previous);
  const after = readMapping(current);
  if (!after) return "does not read as YAML";
  if (!before) return "reads as YAML again";
  const changes = [
    ...GRANT_SECTIONS.flatMap((section) => grantChanges(section, before[section], after[section])),
    ...ruleChanges(before, after),
    ...settingChanges(before, after),
  ];
  if (changes.length === 0) return "comments or layout only";
  const rest = changes.length - MAX_NAMED;
  return rest > 0 ? `${changes.slice(0, MAX_NAMED).join(", ")} and ${rest} more` : changes.join(", ");
}

/** How `current` differs from `previous`, in one line. */
export function describeChange(previous: string, current: string): string {
  if (previous === current) return "no change";
  let added = 0;
  let removed = 0;
  for (const part of diffLines(previous, current)) {
    if (part.added) added += part.count;
    else if (part.removed) removed += part.count;
  }
  return `+${added} -${removed} lines: ${meaningChanges(previous, current)}`;
}

/** The line of the oldest version SSM still keeps, which has nothing before it to compare with. */
export function describeFirst(version: number, text: string): string {
  const lines = text.split("\n").filter((line, i, all) => i < all.length - 1 || line !== "").length;
  const kept = version === 1 ? "created" : `versions before ${version} no longer kept`;
  return `${kept}, ${lines} line${lines === 1 ? "" : "s"}${readMapping(text) ? "" : ", does not read as YAML"}`;
}
