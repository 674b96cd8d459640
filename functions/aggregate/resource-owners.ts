/**
 * Which server a resource URI (or a resource template) belongs to on the aggregated endpoint, where resources keep
 * their URIs: the first server, in configuration order, that lists the URI in `resources/list`; failing that, the
 * first whose `resources/templates/list` has a template the URI expands from (or the template itself, for a
 * completion). The same rule leaves a later server's duplicate out of merged lists (merge-lists.ts), so a URI is
 * read from the server whose entry the client was shown.
 *
 * The servers' lists are read on the first lookup of a session and kept for a minute per session, in a bounded map,
 * so a run of reads costs one round of lists.
 */
import { LruMap } from "../cache/lru-map.js";

/** A server's resources: the URIs it lists and the templates it lists. */
export interface ListedResources {
  uris: ReadonlySet<string>;
  templates: readonly string[];
}

/** How long a session's listings are reused, in milliseconds. */
const LISTING_MAX_AGE_MS = 60_000;
/** Sessions whose listings are kept at once. */
const LISTING_CAPACITY = 1_000;

/**
 * Whether `uri` could be an expansion of `template`: its literal parts in order, anything for each expression. Used
 * for routing only; whether the caller may read the URI is the policy's question, asked of the URI itself.
 */
export function expandsFrom(template: string, uri: string): boolean {
  const parts = template.split(/\{[^{}]*\}/);
  if (parts.length === 1) return template === uri;
  const pattern = parts.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("[\\s\\S]*");
  return new RegExp(`^${pattern}$`).test(uri);
}

export class ResourceOwners {
  private readonly listings = new LruMap<string, { at: number; listed: Promise<Map<string, ListedResources | undefined>> }>(LISTING_CAPACITY);

  /** @param now the clock listings age by. */
  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Who owns what, by the session's listings: a function from a URI (or a template, with `template`) to the server it
   * belongs to, or undefined when none lists it.
   * @param sessionKey what the listings are kept under: the client's session id, or the caller when stateless.
   * @param servers the session's servers, in configuration order.
   * @param list reads one server's listing; undefined when it could not answer (it then owns nothing).
   */
  async lookup(
    sessionKey: string,
    servers: readonly string[],
    list: (server: string) => Promise<ListedResources | undefined>,
  ): Promise<(uri: string, template?: boolean) => string | undefined> {
    let cached = this.listings.get(sessionKey);
    if (!cached || this.now() - cached.at > LISTING_MAX_AGE_MS) {
      const listed = Promise.all(servers.map(async (server) => [server, await list(server)] as const)).then((entries) => new Map(entries));
      cached = { at: this.now(), listed };
      this.listings.set(sessionKey, cached);
    }
    const listings = await cached.listed;
    const among = servers.flatMap((server) => {
      const listing = listings.get(server);
      return listing ? [[server, listing] as const] : [];
    });
    return (uri, template = false) => {
      if (template) return among.find(([, listing]) => listing.templates.includes(uri))?.[0];
      return among.find(([, listing]) => listing.uris.has(uri))?.[0] ?? among.find(([, listing]) => listing.templates.some((t) => expandsFrom(t, uri)))?.[0];
    };
  }

  /**
   * The server `uri` belongs to, or undefined when none lists it (see lookup).
   * @param template the reference is a template as written (completion/complete's `ref/resource`), not a URI.
   */
  async ownerOf(
    sessionKey: string,
    servers: readonly string[],
    list: (server: string) => Promise<ListedResources | undefined>,
    uri: string,
    template = false,
  ): Promise<string | undefined> {
    return (await this.lookup(sessionKey, servers, list))(uri, template);
  }

  /** Forgets a session's listings (its servers said their resources changed). */
  forget(sessionKey: string): void {
    this.listings.delete(sessionKey);
  }
}
