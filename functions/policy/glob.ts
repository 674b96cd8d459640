/**
 * Name patterns of the native policy form: `*` matches any run of characters (slashes included, so resource URIs
 * work), `?` exactly one; everything else matches itself, case-sensitively. No normalization: MCP names are exact.
 */
export function globToRegExp(pattern: string): RegExp {
  const body = Array.from(pattern, (ch) =>
    ch === "*" ? "[\\s\\S]*" : ch === "?" ? "[\\s\\S]" : ch.replace(/[.+^${}()|[\]\\/]/g, "\\$&"),
  ).join("");
  return new RegExp(`^${body}$`, "u");
}


/** Whether a pattern has glob characters; one without matches exactly one name, itself. */
export function isGlobPattern(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

/** The text before a pattern's first glob character: every name the pattern matches starts with it. */
export function literalPrefix(pattern: string): string {
  const end = pattern.search(/[*?]/);
  return end < 0 ? pattern : pattern.slice(0, end);
}
