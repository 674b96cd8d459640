/**
 * API Gateway in front of a Lambda entry point, over real HTTP: a node:http server that turns each request into the
 * API's event (api-gateway-events.ts) and hands it to the function through a Lambda fetch (lambda-fetch.ts: buffered,
 * or streaming through the runtime stand-in), then writes the function's answer back as it arrives.
 *
 * - HTTP API (`$default` stage): every path reaches the function, at the host root.
 * - REST API on its execute-api URL: the stage is the first path segment (`/prod/mcp`); the function gets the path
 *   after it, and anything outside the stage (the host-root `/.well-known/...` URIs) is answered by API Gateway
 *   itself, 403 `{"message":"Forbidden"}`, never reaching the function.
 *
 * It listens before the function is loaded, since the function's PUBLIC_URL must name the front's address. It can
 * rename WWW-Authenticate as API Gateway does (`remapsChallenge`): REST APIs document it for buffered responses, HTTP
 * APIs are reported to (anthropics/claude-ai-mcp issue 748), and for streamed responses it is not known.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { remapChallenge } from "./challenge-renaming-proxy.js";

export interface ApiGatewayFront {
  /** Where clients reach the API: the origin, plus `/<stage>` for a REST API (what the stack's PUBLIC_URL is). */
  publicUrl: string;
  /** The host clients address (the events' domainName). */
  domainName: string;
  /** Hands requests to the function from now on (until then, 503). */
  attach(fetch: FetchLike): void;
  /** Whether the function's WWW-Authenticate reaches clients renamed to x-amzn-Remapped-WWW-Authenticate. Default false. */
  remapsChallenge: boolean;
  close(): Promise<void>;
}

export interface ApiGatewayFrontOptions {
  /** A REST API stage, e.g. `prod`: requests must come under `/<stage>`. Default: an HTTP API's `$default` stage. */
  restStage?: string;
}

/** Connection-level headers: the front's own business, never part of the event. */
const HOP_BY_HOP = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length"]);

async function bodyOf(incoming: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (incoming.method === "GET" || incoming.method === "HEAD") return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? undefined : new Uint8Array(Buffer.concat(chunks));
}

async function writeAnswer(response: Response, outgoing: ServerResponse, remapsChallenge: boolean): Promise<void> {
  const headers = Object.fromEntries(response.headers);
  outgoing.writeHead(response.status, remapsChallenge ? remapChallenge(headers) : headers);
  // An event stream may be quiet for long: its status and headers go out now, not with its first event.
  outgoing.flushHeaders();
  if (!response.body) {
    outgoing.end();
    return;
  }
  const reader = response.body.getReader();
  // The client leaving breaks the connection to the function too.
  outgoing.on("close", () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
    if (done) break;
    outgoing.write(value);
  }
  outgoing.end();
}

export async function startApiGatewayFront(options: ApiGatewayFrontOptions = {}): Promise<ApiGatewayFront> {
  let target: FetchLike | undefined;
  const stagePrefix = options.restStage === undefined ? "" : `/${options.restStage}`;
  const server = createServer((incoming, outgoing) => {
    void (async () => {
      const url = new URL(incoming.url ?? "/", "http://front");
      if (stagePrefix && url.pathname !== stagePrefix && !url.pathname.startsWith(`${stagePrefix}/`)) {
        outgoing.writeHead(403, { "content-type": "application/json", "x-amzn-errortype": "ForbiddenException" }).end('{"message":"Forbidden"}');
        return;
      }
      if (!target) {
        outgoing.writeHead(503).end();
        return;
      }
      const headers = Object.entries(incoming.headers).flatMap(([name, value]) =>
        HOP_BY_HOP.has(name) || value === undefined ? [] : [[name, Array.isArray(value) ? value.join(", ") : value] as [string, string]],
      );
      const path = url.pathname.slice(stagePrefix.length) || "/";
      const body = await bodyOf(incoming);
      try {
        const answer = await target(`http://${front.domainName}${path}${url.search}`, { method: incoming.method ?? "GET", headers, ...(body ? { body } : {}) });
        await writeAnswer(answer, outgoing, front.remapsChallenge);
      } catch (error) {
        // The function failed: API Gateway answers 502 for an integration error.
        if (!outgoing.headersSent) outgoing.writeHead(502, { "content-type": "application/json" }).end('{"message":"Internal server error"}');
        else outgoing.destroy(error as Error);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const domainName = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const front: ApiGatewayFront = {
    publicUrl: `http://${domainName}${stagePrefix}`,
    domainName,
    attach: (fetch) => void (target = fetch),
    remapsChallenge: false,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return front;
}
