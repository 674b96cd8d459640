/** The local adapter: serves the gateway core over node:http (through @hono/node-server's Request/Response bridge). */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Gateway } from "../core/gateway.js";

export interface LocalServer {
  /** Base URL the server listens on, e.g. `http://127.0.0.1:9000`. */
  url: string;
  close(): Promise<void>;
}

/** Where a local server listens unless told otherwise: this machine only. */
export const LOCAL_HOSTNAME = "127.0.0.1";

export interface LocalServerOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind. Default `127.0.0.1`: the local gateway is not exposed to the network unless asked. */
  hostname?: string;
}

/** Serves any `fetch(Request) → Response` function on node:http. */
export function serveFetch(fetch: (request: Request) => Promise<Response>, options: LocalServerOptions): Promise<LocalServer> {
  const hostname = options.hostname ?? LOCAL_HOSTNAME;
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: (request) => fetch(request), port: options.port, hostname, overrideGlobalObjects: false }, (info: AddressInfo) => {
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            if ("closeAllConnections" in server) server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
    server.once("error", reject);
  });
}

export function serveGateway(gateway: Gateway, options: LocalServerOptions): Promise<LocalServer> {
  return serveFetch((request) => gateway.fetch(request), options);
}
