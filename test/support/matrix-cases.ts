/**
 * What the version matrices (through one server's gateway, and through the aggregated endpoint) run in every cell:
 * the protocol versions, the lists compared, and per server the calls each matrix user may and may not make (see
 * matrix-policy.ts for the policy that decides them).
 */
import type { ListKind } from "./matrix-clients.js";
import { MODERN_VERSION } from "./matrix-clients.js";
import type { MatrixUser } from "./matrix-policy.js";

/** The two servers of the matrices: server-everything (the 1.x SDK) and the v2 SDK test server. */
export type MatrixServer = "everything" | "v2";

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export const VERSIONS = ["2025-03-26", "2025-06-18", "2025-11-25", MODERN_VERSION];
export const LISTS: ListKind[] = ["tools", "prompts", "resources", "resourceTemplates"];
export const ECHO: ToolCall = { name: "echo", arguments: { message: "héllo ✓" } };

/** Per server: a tool only analysts may call, and one nobody may call (both exist on the server). */
export const CALLS: Record<MatrixServer, { analystOnly: ToolCall; nobody: ToolCall }> = {
  everything: { analystOnly: { name: "get-sum", arguments: { a: 2, b: 40 } }, nobody: { name: "get-env", arguments: {} } },
  v2: { analystOnly: { name: "add", arguments: { a: 2, b: 40 } }, nobody: { name: "delete_everything", arguments: {} } },
};

/** A call each user may make on a server, and one each user may not. */
export const ALLOWED: Record<MatrixUser["name"], (server: MatrixServer) => ToolCall> = {
  analyst: (server) => CALLS[server].analystOnly,
  guest: () => ECHO,
};
export const DENIED: Record<MatrixUser["name"], (server: MatrixServer) => ToolCall> = {
  analyst: (server) => CALLS[server].nobody,
  guest: (server) => CALLS[server].analystOnly,
};
