/** A definition that did not match its pin (pins/), as the access log names it. */
export interface ChangedDefinition {
  server: string;
  kind: "tool" | "prompt" | "resourceTemplate";
  /** The server's own name for it (templates: the uriTemplate). */
  name: string;
  /** The approved digest; null when the definition is not pinned at all. */
  pinned: string | null;
  /** The digest of the definition as the server lists it now; null when the server does not list it (a call). */
  listed: string | null;
  /** What the gateway did: hid it from a list, showed it (`pinning: warn`), or refused its use. */
  action: "hidden" | "shown" | "refused";
}

/** What one access-log line says about one request; metrics are derived from the same entry. */
export interface AccessLogEntry {
  /** When the request arrived (ISO 8601). */
  time: string;
  /** HTTP method and path of the request. */
  httpMethod: string;
  path: string;
  /** HTTP status sent back. */
  status?: number;
  /** The JSON-RPC method(s) of a POST body; several are comma-separated (a batch). */
  mcpMethod?: string;
  /** The tool, prompt or resource a message used. */
  tool?: string;
  prompt?: string;
  resource?: string;
  /** The backend server whose item the request used (its configured name), whether it went there or was refused. */
  server?: string;
  /** On the aggregated endpoint: the servers that did not answer their part of a fan-out. */
  serversUnavailable?: string[];
  /** The caller's `sub` claim, once the token is verified. */
  subject?: string;
  /** `allowed`, `denied`, or `filtered` when list results lost items. */
  decision?: "allowed" | "denied" | "filtered";
  /** How many items list results lost to the policy. */
  listItemsRemoved?: number;
  /**
   * Definitions that did not match their pin, with both digests (the first MAX_CHANGED_LOGGED of them, so that the
   * line stays one line); `definitionsChangedCount` counts them all.
   */
  definitionsChanged?: ChangedDefinition[];
  /** How many definitions did not match their pin in this request (the DefinitionChanged metric). */
  definitionsChangedCount?: number;
  /** The policy rule that decided a denial or allowance, when one did. */
  rule?: string;
  /** Why a request failed or was refused, precisely. */
  reason?: string;
  /** Under dry run, the decision the full policy would have made where it differs from the one in force. */
  dryRunDecision?: "allowed" | "denied";
  /** The rule behind the dry-run decision. */
  dryRunRule?: string;
  /** Under dry run, how many more list items the full policy would have removed. */
  dryRunListItemsRemoved?: number;
  /** The MCP session id the client sent, or the one the backend handed out. */
  sessionId?: string;
  /** Milliseconds from arrival to the end of the response. */
  durationMs?: number;
}
