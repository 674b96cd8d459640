/** The local adapter: serves the gateway core over node:http (through @hono/node-server's Request/Response bridge). */
import { AsyncLocalStorage } from "node:async_hooks";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { Gateway } from "../core/gateway.js";

export interface LocalServer {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:9000`. */
  url: string;
  close(): Promise<void>;
}

/** Where a local server listens unless told otherwise: this machine only. */
export const LOCAL_HOSTNAME = "127.0.0.1";

/** A request node's HTTP parser accepted, as it came. */
export interface RequestLine {
  method: string;
  /** The request target: path and query. */
  target: string;
}

export interface LocalServerOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind. Default `127.0.0.1`: the local gateway is not exposed to the network unless asked. */
  hostname?: string;
  /**
   * Answers a request that node's HTTP parser accepted but that cannot become a web-standard Request (a Host header
   * that is no host name, a backslash in the path). Default: 400 with an empty body.
   */
  onUntranslatable?: (request: RequestLine, reason: string) => Response;
}

/** Serves any `fetch(Request) → Response` function on node:http. */
export function serveFetch(fetch: (request: Request) => Promise<Response>, options: LocalServerOptions): Promise<LocalServer> {
  const hostname = options.hostname ?? LOCAL_HOSTNAME;
  // The bridge reports a request it cannot translate without the request itself: the request being served is kept
  // here, so the answer can name it.
  const current = new AsyncLocalStorage<IncomingMessage>();
  const listener = getRequestListener((request) => fetch(request), {
    hostname,
    overrideGlobalObjects: false,
    errorHandler: (error) => {
      const incoming = current.getStore();
      const reason = error instanceof Error ? error.message : String(error);
      const line = { method: incoming?.method ?? "", target: incoming?.url ?? "" };
      return options.onUntranslatable?.(line, reason) ?? new Response(null, { status: 400 });
    },
  });
  const server = createServer((incoming, outgoing) => current.run(incoming, () => listener(incoming, outgoing)));
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, hostname, () => {
      const info = server.address() as AddressInfo;
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export function serveGateway(gateway: Gateway, options: LocalServerOptions): Promise<LocalServer> {
  return serveFetch((request) => gateway.fetch(request), {
    onUntranslatable: (line, reason) => gateway.refuseUntranslatable(line.method, line.target, reason),
    ...options,
  });
}
