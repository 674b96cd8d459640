/**
 * A transparent HTTP relay placed between the gateway and a test backend, counting every request that reaches it,
 * so a test can assert that a refused request never got as far as the backend (not merely that no tool ran).
 */
import { serveFetch } from "../../functions/adapters/node-server.js";

export interface CountingProxy {
  /** The relay's address for `target`'s path, e.g. `http://127.0.0.1:40001/mcp`. */
  url: string;
  /** Requests relayed so far, in order ("POST /mcp"). */
  requests: string[];
  close(): Promise<void>;
}

const HOP_BY_HOP = ["host", "connection", "keep-alive", "content-length", "transfer-encoding"];

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const targetUrl = new URL(target);
  const requests: string[] = [];
  const server = await serveFetch(
    async (request) => {
      const url = new URL(request.url);
      requests.push(`${request.method} ${url.pathname}`);
      const headers = new Headers(request.headers);
      for (const name of HOP_BY_HOP) headers.delete(name);
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
      const upstream = await fetch(new URL(`${url.pathname}${url.search}`, targetUrl.origin), { method: request.method, headers, body });
      const responseHeaders = new Headers(upstream.headers);
      for (const name of HOP_BY_HOP) responseHeaders.delete(name);
      return new Response(upstream.body, { status: upstream.status, headers: responseHeaders });
    },
    { port: 0 },
  );
  return { url: `${server.url}${targetUrl.pathname}`, requests, close: () => server.close() };
}
