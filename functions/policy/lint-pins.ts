/**
 * Lint of pins, given the servers' tool lists (`policy validate --tools`): a tool pin that matches no listed tool of
 * its server pins nothing (a tool renamed or removed, or a pin written under the wrong server). With one list whose
 * server is not named, every server's tool pins are checked against it. Prompt and template pins are not checked:
 * the lists name tools only.
 */
import type { NamedPolicyDocument } from "./document.js";
import type { LintFinding } from "./lint.js";
import type { ToolList } from "./lint-tools.js";

export function unmatchedPins(documents: readonly NamedPolicyDocument[], toolLists: readonly ToolList[]): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const document of documents) {
    for (const [server, sections] of Object.entries(document.document.servers ?? {})) {
      const list = toolLists.find((l) => l.server === server) ?? toolLists.find((l) => l.server === undefined);
      if (!list) continue;
      const listed = new Set(list.tools);
      for (const name of Object.keys(sections.pins?.tools ?? {})) {
        if (listed.has(name)) continue;
        const path = ["servers", server, "pins", "tools", name];
        findings.push({
          origin: `${document.origin} ${path.join(".")}`,
          message: `pins a tool ${list.server === undefined ? "the backend" : `server ${server}`} does not list: it pins nothing (renamed or removed? 'policy pin' drops it)`,
          position: document.locate?.({ path, key: true }),
        });
      }
    }
  }
  return findings;
}
