/** The vocabulary shared by the policy engine and the MCP layer. */
import type { Identity } from "../auth/identity.js";

/** The three kinds of MCP item a policy governs. */
export type ItemKind = "tool" | "prompt" | "resource";

/** One item a caller wants to see or use. For resources `name` is the URI (or, in template lists, the uriTemplate). */
export interface PolicyItem {
  kind: ItemKind;
  /** The server's own name for the item (never one prefixed with the server's name). */
  name: string;
  /**
   * The name of the server the item belongs to, as configured in the gateway (server-name.ts), as `mcp.<kind>.target`
   * and the scope of `servers.<name>` grants. The gateway always sets it; absent only where a `policy` CLI user gave
   * no server, and then no server-scoped grant matches the item and a condition reading the target is false.
   */
  target?: string;
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
