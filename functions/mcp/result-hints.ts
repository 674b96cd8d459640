/**
 * What a result says about itself that stops being true once it has passed the gateway, rewritten whatever its shape
 * (like list filtering, so it holds for JSON bodies, SSE events and batches alike):
 *
 * - `cacheScope` (protocol 2026-07-28): the gateway answers each caller after its own policy (lists filtered,
 *   reads judged), so no result that passes it may be cached for someone else. Anything but `private` becomes
 *   `private`; `ttlMs` is kept, since the caller's own client may reuse its own answer.
 * - `capabilities.tasks` (initialize and server/discover results): the gateway does not carry tasks (their ids are
 *   not bound to a caller or a tool), so clients are not told the server offers them.
 */

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The result with its hints corrected; the same object when nothing needed correcting. */
export function correctResultHints(result: Record<string, unknown>): Record<string, unknown> {
  let corrected = result;
  if ("cacheScope" in corrected && corrected.cacheScope !== "private") corrected = { ...corrected, cacheScope: "private" };
  const capabilities = corrected.capabilities;
  if (isObject(capabilities) && "tasks" in capabilities) {
    const { tasks: _tasks, ...rest } = capabilities;
    corrected = { ...corrected, capabilities: rest };
  }
  return corrected;
}
