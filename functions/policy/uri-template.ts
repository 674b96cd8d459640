/**
 * Resource grants on URI templates (RFC 6570). A resource grant whose key has a `{` or `}` is a template grant:
 * `demo://resource/dynamic/text/{resourceId}: [admin]` grants
 *
 * - the template itself, as written, where a template is judged (`uriTemplate` in resources/templates/list,
 *   completion/complete's `ref/resource`): exactly this string;
 * - every URI the template expands to by level-1 simple string expansion, each `{name}` standing for one or more
 *   characters other than `/`, `?` and `#` (so one path segment, or part of one): `demo://resource/dynamic/text/1`,
 *   not `.../text/1/2` nor `.../text/` (empty).
 *
 * The other characters of the key are literal (no glob `*` or `?` in a template grant). A URI is judged under every
 * reading a backend may make of it (resource-decision.ts), each of which must match: `.../text/%2F..` is refused
 * for its dot segment once decoded, `.../text/a%2Fb` because its decoded reading has two segments.
 *
 * Only level-1 expressions are variables. Operators (`{+path}`, `{#f}`, `{.ext}`, `{/seg}`, `{;p}`, `{?q}`, `{&q}`),
 * lists (`{x,y}`) and modifiers (`{x*}`, `{x:3}`) widen what a variable matches (slashes, several segments, a query)
 * in ways a grant should not guess at: such a key is refused when the policy loads. `{}` names no variable: the
 * grant matches nothing (lint says so).
 */

/** A template key read: its parts, or why it is refused, or why it matches nothing. */
export type TemplateKey =
  | { kind: "template"; parts: readonly TemplatePart[] }
  | { kind: "refused"; reason: string }
  | { kind: "matches nothing"; reason: string };

export type TemplatePart = { literal: string } | { variable: string };

/** Whether a resource grant key is a template (has an expression, or a brace that would be one). */
export function isTemplateKey(key: string): boolean {
  return key.includes("{") || key.includes("}");
}

const OPERATORS = "+#./;?&";
const RESERVED_OPERATORS = "=,!@|";

/** Why an expression's text is not a level-1 variable name; undefined when it is one. */
function notAVariable(expression: string): string | undefined {
  const first = expression[0]!;
  if (OPERATORS.includes(first)) {
    return `{${expression}} uses the RFC 6570 operator ${first}, and a grant matches only level-1 {name} variables (one segment each); grant the URIs with a glob (*) instead`;
  }
  if (RESERVED_OPERATORS.includes(first)) return `{${expression}} uses ${first}, which RFC 6570 reserves as an operator; a grant matches only level-1 {name} variables`;
  if (expression.includes(",")) return `{${expression}} lists several variables (RFC 6570 level 3); a grant matches only level-1 {name} variables, one per expression`;
  if (/[*:]/.test(expression)) return `{${expression}} has an RFC 6570 modifier (* or :); a grant matches only level-1 {name} variables`;
  if (/[\s\p{Cc}]/u.test(expression)) return `{${JSON.stringify(expression).slice(1, -1)}} is not a variable name (it has whitespace or control characters)`;
  return undefined;
}

/** Reads a template key (see `isTemplateKey`). */
export function readTemplateKey(key: string): TemplateKey {
  const parts: TemplatePart[] = [];
  let empty = false;
  let at = 0;
  while (at < key.length) {
    const open = key.indexOf("{", at);
    const close = key.indexOf("}", at);
    if (close >= 0 && (open < 0 || close < open)) return { kind: "refused", reason: `a } at offset ${close} closes no {` };
    if (open < 0) {
      parts.push({ literal: key.slice(at) });
      break;
    }
    if (open > at) parts.push({ literal: key.slice(at, open) });
    const end = key.indexOf("}", open);
    const nested = key.indexOf("{", open + 1);
    if (end < 0 || (nested >= 0 && nested < end)) return { kind: "refused", reason: `the { at offset ${open} is not closed` };
    const expression = key.slice(open + 1, end);
    if (expression === "") empty = true;
    else {
      const reason = notAVariable(expression);
      if (reason) return { kind: "refused", reason };
      parts.push({ variable: expression });
    }
    at = end + 1;
  }
  if (empty) return { kind: "matches nothing", reason: "{} names no variable, so it is no template and matches no URI" };
  return { kind: "template", parts };
}

/** What a variable matches in an expanded URI: one or more characters that are not `/`, `?` or `#`. */
const VARIABLE = "[^/?#]+";

/** The expanded URIs of a template, as a regular expression (literal parts as written). */
export function expansionsOf(parts: readonly TemplatePart[]): RegExp {
  const body = parts.map((part) => ("variable" in part ? VARIABLE : part.literal.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))).join("");
  return new RegExp(`^${body}$`, "u");
}

/** The text before the first expression: every URI the template expands to starts with it. */
export function templatePrefix(parts: readonly TemplatePart[]): string {
  const first = parts[0];
  return first !== undefined && "literal" in first ? first.literal : "";
}

/** One URI the template expands to (each variable `x`), for lint to judge as the gateway would. */
export function exampleExpansion(parts: readonly TemplatePart[]): string {
  return parts.map((part) => ("variable" in part ? "x" : part.literal)).join("");
}
