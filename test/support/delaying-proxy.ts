/**
 * A relay in front of an MCP server that holds back requests of chosen JSON-RPC methods before passing them on: a
 * server that is slow at some things (its lists, say) and quick at the rest. Everything else passes through as is.
 */
import { serveFetch } from "../../functions/adapters/node-server.js";

export interface DelayingProxy {
  url: string;
  /** The JSON-RPC methods of the requests it held back, in order. */
  delayed: string[];
  close(): Promise<void>;
}

const HOP_BY_HOP = ["host", "connection", "keep-alive", "content-length", "transfer-encoding"];

/** @param delays milliseconds to hold back each request, by its JSON-RPC method. */
export async function startDelayingProxy(target: string, delays: Record<string, number>): Promise<DelayingProxy> {
  const delayed: string[] = [];
  const relay = await serveFetch(
    async (request) => {
      const headers = new Headers(request.headers);
      for (const name of HOP_BY_HOP) headers.delete(name);
      const body = request.method === "POST" ? await request.text() : undefined;
      let method: string | undefined;
      try {
        method = body ? (JSON.parse(body) as { method?: string }).method : undefined;
      } catch {
        method = undefined;
      }
      const delay = method === undefined ? undefined : delays[method];
      if (delay !== undefined) {
        delayed.push(method as string);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
      const upstream = await fetch(target, { method: request.method, headers, body, signal: request.signal });
      const responseHeaders = new Headers(upstream.headers);
      for (const name of HOP_BY_HOP) responseHeaders.delete(name);
      return new Response(upstream.body, { status: upstream.status, headers: responseHeaders });
    },
    { port: 0 },
  );
  return { url: `${relay.url}/mcp`, delayed, close: () => relay.close() };
}
