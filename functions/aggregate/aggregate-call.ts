/**
 * One request on the aggregated endpoint, with what every part of its handling shares: the servers of its session,
 * the headers each is sent, the policy as each server's, fan-outs, and how a server's answer is filtered for the
 * client (ids made client-facing, and a resource list change forgetting who owns what).
 */
import type { AccessLog } from "../http/access-log.js";
import type { JsonRpcPost } from "../core/read-body.js";
import type { NotCarried } from "../core/authorize-messages.js";
import type { Judge } from "../core/judge.js";
import type { JsonRpcMessage } from "../mcp/jsonrpc.js";
import type { ItemPredicate } from "../mcp/list-filter.js";
import type { DefinitionPinning } from "../pins/definition-pinning.js";
import type { PinSet } from "../pins/pin-set.js";
import type { Identity, PolicyItem } from "../policy/types.js";
import type { ResponseFiltering } from "../proxy/filtered-response.js";
import type { SessionBinding } from "../proxy/session-binding.js";
import type { BackendServer, HeaderList } from "../servers/backend-server.js";
import { ExchangeFailure, exchange, type ExchangeAnswer } from "../servers/server-exchange.js";
import type { AggregateSession } from "./aggregate-session.js";
import type { ResourceOwners } from "./resource-owners.js";
import { clientFacingEventId, withClientFacingId } from "./server-request-ids.js";

export interface AggregatedEndpointOptions {
  servers: readonly BackendServer[];
  sessions: SessionBinding;
  /** `MAX_BACKEND_MESSAGE_BYTES`. */
  maxMessageBytes: number;
  /** Whether the runtime streams (see GatewayOptions.serverStreams). */
  carriesServerRequests: boolean;
  /** `SSE_KEEPALIVE_SECONDS` in milliseconds; 0 on a buffered runtime. */
  keepAliveMs: number;
  notCarried: NotCarried;
  /** What this instance saw each pinned server list, shared with the servers' own endpoints. */
  pinning: DefinitionPinning;
}

/** One request on the aggregated endpoint, authenticated and read. */
export interface AggregatedRequest {
  request: Request;
  post: JsonRpcPost | undefined;
  identity: Identity;
  /** The caller's verified bearer token, for servers whose tokens are exchanged for it (never sent to a server). */
  subjectToken: string;
  /** The policy for this caller (targets not yet set). */
  judge: Judge;
  /** The policy's pins: each server's items are checked against that server's (its own, unprefixed definitions). */
  pins: PinSet;
  log: AccessLog;
  /** The gateway's public base URL (the issuer of the tokens it mints). */
  issuer: string;
  /** `Mcp-Param-*` headers, checked against the body. */
  paramHeaders: HeaderList;
}

/** What the endpoint keeps for every request: its options, the servers by name, who owns which resource. */
export interface AggregateContext {
  options: AggregatedEndpointOptions;
  byName: ReadonlyMap<string, BackendServer>;
  names: ReadonlySet<string>;
  owners: ResourceOwners;
}

/** One server's part of a fan-out: its answer, or why there is none. */
export type FanOutOutcome =
  | { server: string; answer: ExchangeAnswer }
  | { server: string; failure: ExchangeFailure | undefined; unavailable: string };

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The message with other params (a server's own name in place of the shown one, a server's own cursor). */
export function withParams(message: JsonRpcMessage, params: Record<string, unknown>): JsonRpcMessage {
  return { ...message, params };
}

/** Methods by which a server says its resources changed: who owns which URI is read again. */
const RESOURCES_CHANGED = "notifications/resources/list_changed";

export class AggregateCall {
  constructor(
    readonly ctx: AggregateContext,
    readonly req: AggregatedRequest,
    readonly session: AggregateSession | undefined,
  ) {}

  get log(): AccessLog {
    return this.req.log;
  }

  /** The servers taking part in the session (all of them without one: stateless), in configuration order. */
  participants(): BackendServer[] {
    const { servers } = this.ctx.options;
    const { session } = this;
    if (!session) return [...servers];
    return servers.filter((server) => {
      const part = session.servers[server.name];
      return part !== undefined && !("unavailable" in part);
    });
  }

  /** The participating server of that name, if any. */
  participant(name: string): BackendServer | undefined {
    return this.participants().find((server) => server.name === name);
  }

  /** What the session's resource owners are kept under: the client's session id, or the caller when stateless. */
  sessionKey(): string {
    const { request, identity } = this.req;
    return request.headers.get("mcp-session-id") ?? `stateless ${JSON.stringify([identity.claims.iss, identity.subject])}`;
  }

  /** The headers a request to `server` carries: the gateway's own, and the server's part of the session. */
  async headersFor(server: BackendServer): Promise<Array<readonly [string, string]>> {
    const part = this.session?.servers[server.name] as { session?: string; version?: string } | undefined;
    return [
      ...(await server.gatewayHeaders(this.req.identity, this.req.issuer, this.req.subjectToken)),
      ...(part?.session !== undefined ? [["mcp-session-id", part.session] as const] : []),
      ...(part?.version !== undefined ? [["mcp-protocol-version", part.version] as const] : []),
    ];
  }

  /** The policy for one server's items: every item's target is that server's name. */
  judgeOf(server: string): Judge {
    const { judge } = this.req;
    return (item) => judge({ ...item, target: server });
  }

  /** Whether the caller may see a listed item of `server`; dry-run removals are counted in `log`. */
  allows(server: string, log: AccessLog = this.req.log): ItemPredicate {
    const judge = this.judgeOf(server);
    const byPolicy = (item: PolicyItem) => {
      const decision = judge(item);
      if (decision.dryRun && !decision.dryRun.allowed) log.countDryRunRemoved(1);
      return decision.allowed;
    };
    return this.ctx.options.pinning.listing(byPolicy, server, this.req.pins, log);
  }

  /**
   * How one server's answer is filtered for the client: as that server's items, its requests' and events' ids made
   * client-facing, and a change of its resources making the session's owners be read again.
   */
  filtering(server: string, log: AccessLog, extra: Partial<ResponseFiltering> = {}): ResponseFiltering {
    const { options, owners } = this.ctx;
    return {
      allows: this.allows(server, log),
      log,
      carriesServerRequests: options.carriesServerRequests,
      maxMessageBytes: options.maxMessageBytes,
      answersPost: false,
      keepAliveMs: options.keepAliveMs,
      rewrite: (message) => {
        if (isObject(message) && message.method === RESOURCES_CHANGED) owners.forget(this.sessionKey());
        return withClientFacingId(message, server);
      },
      rewriteEventId: (id) => clientFacingEventId(server, id),
      ...extra,
    };
  }

  /** Sends `messageFor(server)` to each of `targets` and collects their answers (or why not), in their order. */
  async fanOut(targets: readonly BackendServer[], messageFor: (server: BackendServer) => JsonRpcMessage): Promise<FanOutOutcome[]> {
    const outcomes = await Promise.all(
      targets.map(async (server): Promise<FanOutOutcome> => {
        try {
          const answer = await exchange(this.req.request, server, messageFor(server), await this.headersFor(server), this.ctx.options.maxMessageBytes);
          return { server: server.name, answer };
        } catch (err) {
          const reason = err instanceof ExchangeFailure ? err.reason : err instanceof Error ? err.message : String(err);
          return { server: server.name, failure: err instanceof ExchangeFailure ? err : undefined, unavailable: reason };
        }
      }),
    );
    const missing = outcomes.flatMap((o) => ("unavailable" in o ? [o] : []));
    if (missing.length > 0) this.noteUnavailable(missing.map((o) => o.server), `servers did not answer: ${missing.map((o) => `${o.server}: ${o.unavailable}`).join("; ")}`);
    return outcomes;
  }

  /** Records servers missing from this answer, for the log line and the ServersUnavailable metric. */
  noteUnavailable(servers: readonly string[], reason: string): void {
    const { entry } = this.req.log;
    entry.serversUnavailable = [...(entry.serversUnavailable ?? []), ...servers];
    entry.reason = `${entry.reason ? `${entry.reason}; ` : ""}${reason}`;
  }
}
