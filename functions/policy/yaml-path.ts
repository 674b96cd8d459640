/** A place in a YAML or JSON document, written as it reads: `tools.echo`, `rules[0]`, `tools["search docs"]`. */
export function formatYamlPath(path: ReadonlyArray<PropertyKey>, whole = "(document)"): string {
  if (path.length === 0) return whole;
  return path
    .map((part, index) => {
      if (typeof part === "number") return `[${part}]`;
      const key = String(part);
      return /^[A-Za-z_][\w-]*$/.test(key) ? `${index === 0 ? "" : "."}${key}` : `[${JSON.stringify(key)}]`;
    })
    .join("");
}
