/** The vocabulary shared by the policy engine and the MCP layer. */
import type { Identity } from "../auth/identity.js";

/** The three kinds of MCP item a policy governs. */
export type ItemKind = "tool" | "prompt" | "resource";

/** One item a caller wants to see or use. For resources `name` is the URI (or, in template lists, the uriTemplate). */
export interface PolicyItem {
  kind: ItemKind;
  name: string;
  /**
   * A tool call's arguments, as `mcp.tool.arguments`. Present: the call is judged on them. Absent: the tool is being
   * listed, and is allowed when some arguments could satisfy its rules.
   */
  arguments?: Readonly<Record<string, unknown>>;
  /**
   * Set on a resource template (`uriTemplate` of a `resources/templates/list` result): judged as written, not under
   * the readings a backend may make of a URI (resource-decision.ts), since no backend resolves a template and
   * WHATWG would percent-encode its braces. Absent on every other item, resource URIs included.
   */
  template?: true;
}

/** A policy decision: allowed or not, and which rule (or default) made it, for the log and `explain`. */
export interface Decision {
  allowed: boolean;
  /** Where the deciding rule lives, e.g. `policy.yaml tools.echo` or `policy.yaml rules[1]`; undefined for defaults. */
  rule: string | undefined;
  /** One sentence a policy admin can read. */
  explanation: string;
}

export type { Identity };
