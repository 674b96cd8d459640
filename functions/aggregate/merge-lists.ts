/**
 * One page of an aggregated list from the pages of each server, pure: every server's items filtered by the policy as
 * that server's items (list-filter.ts), tools and prompts renamed `<server>_<name>`, resources and templates kept as
 * they are, in configuration order.
 *
 * Resources keep their URIs, so two servers may list the same one. The rule: a URI (or template) belongs to the
 * first server, in configuration order, that lists it (resource-owners.ts, from every page of every server's lists,
 * so a collision across pages is caught too; on one page, the first lister when the owner is not known). A later
 * server's entry is left out and the result's `_meta` names it, so a collision is never a silent shadow. Reads are
 * routed by the same rule, so a URI is always read from the server whose entry the client was shown.
 * Ownership is decided before the policy: an owner's entry the caller may not see does not let another server's
 * entry stand in for it (the read would go to the owner and be refused), and is not named either: the other entry is
 * removed as a denied one is, so `_meta` never reveals an item the caller may not see.
 * A server that could not answer costs only its own items, and `_meta` names it with the reason.
 */
import { filterListResults, type ItemPredicate } from "../mcp/list-filter.js";
import type { PolicyItem } from "../policy/types.js";
import { prefixedName } from "./prefixed-names.js";
import type { PendingPages } from "./list-cursor.js";

/** `_meta` keys the gateway adds to aggregated lists. */
export const META_UNAVAILABLE = "mcp-sso-gateway/unavailable";
export const META_SHADOWED = "mcp-sso-gateway/shadowed";

/** The list methods the aggregated endpoint merges, each with its result key and the item field that names it. */
export const MERGED_LISTS: ReadonlyMap<string, { key: string; field: string; prefixed: boolean }> = new Map([
  ["tools/list", { key: "tools", field: "name", prefixed: true }],
  ["prompts/list", { key: "prompts", field: "name", prefixed: true }],
  ["resources/list", { key: "resources", field: "uri", prefixed: false }],
  ["resources/templates/list", { key: "resourceTemplates", field: "uriTemplate", prefixed: false }],
]);

/** What one server gave for this page. */
export type ServerPage =
  | { server: string; result: Record<string, unknown> }
  | { server: string; unavailable: string };

export interface MergedPage {
  result: Record<string, unknown>;
  /** Servers with more pages, for the next cursor; empty on the last page. */
  pending: PendingPages;
  /** Items the policy removed. */
  removed: number;
  /** Servers that could not answer, for the log. */
  unavailable: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The result's own fields besides its items, from the servers' (2026-07-28 requires `resultType`, and lists may say
 * how long they can be cached, and then must say both): `resultType` as the servers give it; when they give cache
 * hints, the shortest `ttlMs` of them (the merged list is as fresh as its stalest part), 0 when a server is missing
 * (a list without it is not to be kept), and `cacheScope` private, since the list is this caller's
 * (mcp/result-hints.ts).
 */
function resultFields(pages: readonly ServerPage[], incomplete: boolean): Record<string, unknown> {
  const answered = pages.flatMap((page) => ("result" in page ? [page.result] : []));
  const resultType = answered.find((result) => typeof result.resultType === "string")?.resultType;
  const ttls = answered.flatMap((result) => (typeof result.ttlMs === "number" ? [result.ttlMs] : []));
  const scoped = answered.some((result) => "cacheScope" in result);
  const hinted = ttls.length > 0 || scoped;
  return {
    ...(resultType !== undefined ? { resultType } : {}),
    ...(hinted ? { ttlMs: incomplete || ttls.length === 0 ? 0 : Math.min(...ttls), cacheScope: "private" } : {}),
  };
}

/**
 * @param allows whether the caller may see an item of a server (the policy, with `target` set to the server).
 * @param ownerOf the server a resource URI (or template) belongs to by every server's whole lists; undefined when not
 *   known (a listing that could not be read), and then the first lister on this page owns it.
 */
export function mergeListPages(
  method: string,
  pages: readonly ServerPage[],
  allows: (server: string) => ItemPredicate,
  ownerOf: (id: string) => string | undefined = () => undefined,
): MergedPage {
  const shape = MERGED_LISTS.get(method);
  if (!shape) throw new Error(`${method} is not a merged list`);
  const items: unknown[] = [];
  /** The owner of each URI met on this page, and the URIs shown. */
  const owners = new Map<string, string>();
  const shown = new Set<string>();
  const shadowed: Array<{ server: string; [field: string]: string }> = [];
  const unavailable: Array<{ server: string; reason: string }> = [];
  const pending: PendingPages = [];
  let removed = 0;
  for (const page of pages) {
    if ("unavailable" in page) {
      unavailable.push({ server: page.server, reason: page.unavailable });
      continue;
    }
    if (shape.prefixed) {
      const filtered = filterListResults({ result: page.result }, allows(page.server));
      removed += filtered.removed;
      const result = (filtered.message as { result: Record<string, unknown> }).result;
      const listed = Array.isArray(result[shape.key]) ? (result[shape.key] as unknown[]) : [];
      for (const item of listed) {
        if (isObject(item) && typeof item[shape.field] === "string") items.push({ ...item, [shape.field]: prefixedName(page.server, item[shape.field] as string) });
      }
    } else {
      // Unfiltered: who owns a URI does not depend on who may see it.
      const listed = Array.isArray(page.result[shape.key]) ? (page.result[shape.key] as unknown[]) : [];
      for (const item of listed) {
        // Items without a readable URI are removed, as the list filter removes them (fail closed).
        if (!isObject(item) || typeof item[shape.field] !== "string") {
          removed++;
          continue;
        }
        const id = item[shape.field] as string;
        const policyItem: PolicyItem = shape.field === "uriTemplate" ? { kind: "resource", name: id, template: true } : { kind: "resource", name: id };
        const owner = ownerOf(id) ?? owners.get(id) ?? page.server;
        if (!owners.has(id)) owners.set(id, owner);
        if (!allows(page.server)(policyItem, item)) {
          removed++;
        } else if (owner === page.server && !shown.has(id)) {
          shown.add(id);
          items.push(item);
        } else if (owner === page.server || allows(owner)(policyItem)) {
          shadowed.push({ server: page.server, [shape.field]: id, ownedBy: owner });
        } else {
          // The owner's entry is hidden from the caller: naming it as the owner would reveal it.
          removed++;
        }
      }
    }
    if (typeof page.result.nextCursor === "string") pending.push([page.server, page.result.nextCursor]);
  }
  const meta = {
    ...(unavailable.length > 0 ? { [META_UNAVAILABLE]: unavailable } : {}),
    ...(shadowed.length > 0 ? { [META_SHADOWED]: shadowed } : {}),
  };
  return {
    result: { [shape.key]: items, ...resultFields(pages, unavailable.length > 0), ...(Object.keys(meta).length > 0 ? { _meta: meta } : {}) },
    pending,
    removed,
    unavailable: unavailable.map((u) => u.server),
  };
}
