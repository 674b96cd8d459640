/**
 * Pins enforced: each listed tool, prompt and resource template of a pinned server is compared with its pin
 * (pin-set.ts), and the use of one (a tool call, a prompt get, a completion of either) is allowed only when its
 * definition, as the server lists it now, is the approved one.
 *
 * Lists: a definition whose digest is not its pin (changed, or not pinned at all) is hidden under `enforce`, shown
 * under `warn`; either way it is named in the request's log line with both digests and counted (DefinitionChanged).
 * A server without pins, or with `pinning: off`, costs nothing: its list predicate is the policy's own.
 *
 * Uses, fail closed on a stateless instance: what this instance last saw a server list is remembered for
 * VERIFIED_FOR_MS (from any caller's list, or from its own check); a call of a pinned-kind item whose definition was
 * not seen within that time is checked first, the gateway listing the server's definitions of that kind itself
 * (within the caller's session, with the caller's gateway headers), and refused when the server does not list it,
 * lists it changed, or the listing fails. So a call of a changed tool is refused even from a caller that never listed,
 * on an instance that never saw a list; the backend never receives it. Under `warn` a use is never refused, and one
 * of a definition this instance saw changed is logged. Resource reads are judged by URI, which no template owns
 * alone: template pins govern template lists and completions only.
 */
import type { ChangedDefinition } from "../access-log-entry.js";
import { LruMap } from "../cache/lru-map.js";
import type { Judge } from "../core/judge.js";
import type { AccessLog } from "../http/access-log.js";
import { referencedItem } from "../mcp/guarded-methods.js";
import type { JsonRpcBody, JsonRpcMessage } from "../mcp/jsonrpc.js";
import type { ItemPredicate } from "../mcp/list-filter.js";
import type { PolicyItem } from "../policy/types.js";
import { definitionDigest } from "./definition-digest.js";
import type { PinKind, PinSet, ServerPins } from "./pin-set.js";

/** How long a definition seen listed counts as the server's current one, for judging its use without listing again. */
export const VERIFIED_FOR_MS = 30_000;

/** The most changed definitions one log line names (all are counted). */
export const MAX_CHANGED_LOGGED = 20;

/** Pages of a list the gateway reads when checking a use; a definition beyond them counts as not listed. */
const MAX_CHECK_PAGES = 20;

/** Definitions remembered per instance (server, kind, name); bounded, since servers choose how many they list. */
const SEEN_CAPACITY = 20_000;

/** Sends the server one request of the gateway's own and resolves to its result (rejects when there is none). */
export type ServerLister = (message: JsonRpcMessage) => Promise<Record<string, unknown>>;

/** How each kind is listed and named. */
const KINDS: Readonly<Record<PinKind, { method: string; key: string; field: string; logged: ChangedDefinition["kind"] }>> = {
  tools: { method: "tools/list", key: "tools", field: "name", logged: "tool" },
  prompts: { method: "prompts/list", key: "prompts", field: "name", logged: "prompt" },
  resourceTemplates: { method: "resources/templates/list", key: "resourceTemplates", field: "uriTemplate", logged: "resourceTemplate" },
};

/** The kind of definition a policy item is, when pins cover it (resources by URI are not definitions). */
function pinKindOf(item: PolicyItem): PinKind | undefined {
  if (item.kind === "tool") return "tools";
  if (item.kind === "prompt") return "prompts";
  return item.template ? "resourceTemplates" : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Names a changed definition in the request's log line and counts it. */
function noteChanged(log: AccessLog, changed: ChangedDefinition): void {
  const { entry } = log;
  entry.definitionsChangedCount = (entry.definitionsChangedCount ?? 0) + 1;
  const named = (entry.definitionsChanged ??= []);
  if (named.length < MAX_CHANGED_LOGGED) named.push(changed);
}

export class DefinitionPinning {
  private readonly seen = new LruMap<string, { digest: string; at: number }>(SEEN_CAPACITY);

  /** @param now clock in milliseconds. */
  constructor(private readonly now: () => number = Date.now) {}

  private key(server: string, kind: PinKind, name: string): string {
    return JSON.stringify([server, kind, name]);
  }

  private remember(server: string, kind: PinKind, name: string, digest: string): void {
    this.seen.set(this.key(server, kind, name), { digest, at: this.now() });
  }

  /** The digest this instance saw `server` list for the item within VERIFIED_FOR_MS, if any. */
  private recent(server: string, kind: PinKind, name: string): string | undefined {
    const seen = this.seen.get(this.key(server, kind, name));
    return seen && this.now() - seen.at <= VERIFIED_FOR_MS ? seen.digest : undefined;
  }

  /**
   * The list predicate for `server`'s items: `allows` (the policy), then the pin of each item the policy shows. The
   * policy's predicate itself when the server is not pinned.
   */
  listing(allows: ItemPredicate, server: string, pins: PinSet, log: AccessLog): ItemPredicate {
    const serverPins = pins.get(server);
    if (!serverPins) return allows;
    return (item, definition) => {
      if (!allows(item, definition)) return false;
      const kind = pinKindOf(item);
      if (kind === undefined || definition === undefined) return true;
      const digest = definitionDigest(definition);
      this.remember(server, kind, item.name, digest);
      const pinned = serverPins.digests[kind].get(item.name);
      if (pinned === digest) return true;
      const shown = serverPins.mode === "warn";
      noteChanged(log, { server, kind: KINDS[kind].logged, name: item.name, pinned: pinned ?? null, listed: digest, action: shown ? "shown" : "hidden" });
      return shown;
    };
  }

  /**
   * The judge of the uses in `body` of `server`'s pinned definitions, once each is checked (listing the server when
   * this instance has not seen it recently); undefined when the server is not pinned. Call it after the policy
   * allowed the body, so that no caller the policy refuses makes the gateway list a server.
   */
  async judgeOfUses(body: JsonRpcBody, server: string, pins: PinSet, log: AccessLog, list: ServerLister): Promise<Judge | undefined> {
    const serverPins = pins.get(server);
    if (!serverPins) return undefined;
    const used = body.messages.flatMap((message) => {
      const reference = referencedItem(message);
      return "item" in reference ? [reference.item] : "items" in reference ? reference.items : [];
    });
    // The current digest of each used definition: seen recently, or read now from the server.
    const current = new Map<string, string>();
    const listedNow = new Set<PinKind>();
    const toCheck = new Set<PinKind>();
    for (const item of used) {
      const kind = pinKindOf(item);
      if (kind === undefined) continue;
      const recent = this.recent(server, kind, item.name);
      if (recent !== undefined) current.set(this.key(server, kind, item.name), recent);
      // An unpinned one is refused whatever its definition: no need to read it.
      else if (serverPins.mode === "enforce" && serverPins.digests[kind].has(item.name)) toCheck.add(kind);
    }
    const meta = this.clientMeta(body);
    await Promise.all([...toCheck].map(async (kind) => {
      if (await this.check(server, kind, list, meta, current)) listedNow.add(kind);
    }));
    return (item) => this.judgeUse(server, serverPins, item, current, listedNow, log);
  }

  /** The client's `_meta` (2026-07-28 carries the protocol version in it), for the gateway's own requests. */
  private clientMeta(body: JsonRpcBody): Record<string, unknown> {
    const params = body.messages[0]?.params;
    return isObject(params) && isObject(params._meta) ? { _meta: params._meta } : {};
  }

  /**
   * Lists the server's definitions of `kind`, remembering each and adding it to `current`; false when the listing
   * failed (nothing is then known of the kind).
   */
  private async check(server: string, kind: PinKind, list: ServerLister, meta: Record<string, unknown>, current: Map<string, string>): Promise<boolean> {
    const { method, key, field } = KINDS[kind];
    const listed = new Map<string, string>();
    let cursor: string | undefined;
    try {
      for (let page = 0; page < MAX_CHECK_PAGES; page++) {
        const result = await list({ jsonrpc: "2.0", id: `gateway-pin-check-${page}`, method, params: { ...meta, ...(cursor ? { cursor } : {}) } });
        for (const definition of Array.isArray(result[key]) ? (result[key] as unknown[]) : []) {
          // The first of two entries of one name is the one a client keeps, as list filtering judges each.
          if (isObject(definition) && typeof definition[field] === "string" && !listed.has(definition[field])) listed.set(definition[field], definitionDigest(definition));
        }
        cursor = typeof result.nextCursor === "string" ? result.nextCursor : undefined;
        if (!cursor) break;
      }
    } catch {
      return false;
    }
    for (const [name, digest] of listed) {
      this.remember(server, kind, name, digest);
      current.set(this.key(server, kind, name), digest);
    }
    return true;
  }

  /** Whether the use of `item` is allowed, by its current digest; a refusal is logged with both digests. */
  private judgeUse(server: string, serverPins: ServerPins, item: PolicyItem, current: ReadonlyMap<string, string>, listedNow: ReadonlySet<PinKind>, log: AccessLog) {
    const allowed = { allowed: true, rule: undefined, explanation: "its definition matches its pin" };
    const kind = pinKindOf(item);
    if (kind === undefined) return allowed;
    const pinned = serverPins.digests[kind].get(item.name);
    const digest = current.get(this.key(server, kind, item.name));
    if (pinned !== undefined && digest === pinned) return allowed;
    const enforce = serverPins.mode === "enforce";
    // Under warn, only a definition seen changed is worth a line; nothing is listed to find out.
    if (!enforce && digest === undefined) return allowed;
    noteChanged(log, { server, kind: KINDS[kind].logged, name: item.name, pinned: pinned ?? null, listed: digest ?? null, action: enforce ? "refused" : "shown" });
    if (!enforce) return allowed;
    const why =
      pinned === undefined
        ? "its definition is not pinned"
        : digest !== undefined
          ? `its definition changed (pinned ${pinned}, listed ${digest})`
          : listedNow.has(kind)
            ? "the server does not list it"
            : "its definition could not be checked (the server's list could not be read)";
    return { allowed: false, rule: undefined, explanation: `${why}; refused until its pin is approved (servers.${server}.pins)` };
  }
}
