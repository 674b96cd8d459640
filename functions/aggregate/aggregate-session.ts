/**
 * The aggregated endpoint's session, kept by the client: the servers' own session ids and protocol versions, sealed
 * together (encrypted, bound to the caller: proxy/session-binding.ts) into the one `Mcp-Session-Id` the client gets,
 * as agentgateway keeps its session state in the id. Any instance holding the session key continues the session; a
 * restart with the same key loses nothing.
 */
import type { Identity } from "../policy/types.js";
import type { SessionBinding } from "../proxy/session-binding.js";

/** One server's part of the session. */
export type ServerSession =
  /** It answered initialize: its session id (none from a stateless server) and the protocol version it agreed. */
  | { session?: string; version?: string }
  /** It did not: its items are missing for this session, and lists say why in their `_meta`. */
  | { unavailable: string };

export interface AggregateSession {
  /** By server name; a server configured after the session began has no part in it. */
  servers: Record<string, ServerSession>;
}

const PURPOSE = "aggregated session";

export function sealSession(binding: SessionBinding, session: AggregateSession, identity: Identity): Promise<string> {
  return binding.sealState(session, identity, PURPOSE);
}

/** The session inside the client's id, or undefined when it was not sealed for this caller (or altered). */
export async function openSession(binding: SessionBinding, clientSessionId: string, identity: Identity): Promise<AggregateSession | undefined> {
  const state = (await binding.openState(clientSessionId, identity, PURPOSE)) as AggregateSession | undefined;
  return state && typeof state === "object" && typeof state.servers === "object" && state.servers !== null ? state : undefined;
}
