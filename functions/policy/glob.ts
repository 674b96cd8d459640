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

