/**
 * The aggregated endpoint's list cursor: which servers still have pages, and each one's own cursor, sealed by the
 * gateway (encrypted, bound to the caller and the list method) so a client can neither read nor forge its way to
 * another server's pages, nor use another caller's cursor.
 */
import type { Identity } from "../policy/types.js";
import type { SessionBinding } from "../proxy/session-binding.js";

/** Servers with more pages, in configuration order, each with the cursor it gave. */
export type PendingPages = Array<[server: string, cursor: string]>;

const purpose = (method: string) => `list cursor ${method}`;

export function sealCursor(binding: SessionBinding, pending: PendingPages, identity: Identity, method: string): Promise<string> {
  return binding.sealState(pending, identity, purpose(method));
}

/** The pending pages in the client's cursor, or undefined when the gateway did not seal it for this caller and list. */
export async function openCursor(binding: SessionBinding, cursor: string, identity: Identity, method: string): Promise<PendingPages | undefined> {
  const pending = await binding.openState(cursor, identity, purpose(method));
  const valid = Array.isArray(pending) && pending.every((entry) => Array.isArray(entry) && entry.length === 2 && entry.every((part) => typeof part === "string"));
  return valid ? (pending as PendingPages) : undefined;
}
