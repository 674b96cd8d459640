/**
 * The pin check of a POST body the policy allowed, on a server's endpoint and, once routed, on the aggregated one:
 * every use of one of the server's pinned definitions is judged by definition-pinning.ts, listing the server through
 * the gateway's own request when needed, and refused in the words of a denial (-32602 "Unknown tool: ...").
 */
import { authorizeBody, type BodyVerdict, type NotCarried } from "../core/authorize-messages.js";
import type { AccessLog } from "../http/access-log.js";
import type { JsonRpcBody } from "../mcp/jsonrpc.js";
import type { BackendServer, HeaderList } from "../servers/backend-server.js";
import { exchange } from "../servers/server-exchange.js";
import type { DefinitionPinning } from "./definition-pinning.js";
import type { PinSet } from "./pin-set.js";

export interface PinnedUse {
  pinning: DefinitionPinning;
  body: JsonRpcBody;
  server: BackendServer;
  pins: PinSet;
  log: AccessLog;
  /** The client's request, whose MCP headers the gateway's own listing carries. */
  request: Request;
  /** The gateway's headers for this server and caller, with the server's session id when there is one. */
  headers: () => Promise<HeaderList>;
  /** `MAX_BACKEND_MESSAGE_BYTES`. */
  maxMessageBytes: number;
  notCarried: NotCarried;
}

/** Allowed when the body uses no pinned definition that is changed, unpinned or unknown (under enforce). */
export async function pinnedUseVerdict(use: PinnedUse): Promise<BodyVerdict> {
  const { pinning, body, server, pins, log } = use;
  if (!pins.has(server.name)) return { allowed: true };
  const judge = await pinning.judgeOfUses(body, server.name, pins, log, async (message) => {
    const { answer } = await exchange(use.request, server, message, await use.headers(), use.maxMessageBytes);
    return answer.result;
  });
  return judge ? authorizeBody(body, judge, log, use.notCarried) : { allowed: true };
}
