/**
 * A byte-exact relay in front of a backend: it records every request as it arrived on the wire (method, path, raw
 * header lines, body bytes) and passes it on unchanged (the same header lines, the same bytes, chunked when it came
 * chunked), then relays the answer as it comes. So a test knows exactly what the gateway wrote, and the backend still
 * reads those very bytes with its own parser. Unlike test/support/counting-proxy.ts it decodes nothing.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface WireRequest {
  method: string;
  path: string;
  /** Header names as node reads them (lower case), for lookups. */
  headers: IncomingHttpHeaders;
  /** The header lines as sent, name and value alternating. */
  rawHeaders: string[];
  body: Buffer;
}

export interface WireTap {
  /** The tap's address for the target's path. */
  url: string;
  /** Every request that reached the tap, in order. */
  requests: WireRequest[];
  close(): Promise<void>;
}

export async function startWireTap(target: string): Promise<WireTap> {
  const targetUrl = new URL(target);
  const requests: WireRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, rawHeaders: [...req.rawHeaders], body });
      const upstream = httpRequest(
        { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: [...req.rawHeaders] },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      res.on("close", () => upstream.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

