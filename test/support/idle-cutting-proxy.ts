/**
 * A loopback relay that cuts a response when its origin sends no bytes for a while, as CloudFront does after its
 * origin response timeout (between the request and the first byte, and between any two packets), and as load
 * balancers and proxies do with idle connections. Bytes are relayed as they arrive; a cut destroys both connections,
 * so the client sees its response break off.
 */
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";

export interface IdleCuttingProxy {
  /** The relay's address for the target's path. */
  url: string;
  /** How many responses it cut. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startIdleCuttingProxy(target: string, idleMs: number): Promise<IdleCuttingProxy> {
  const targetUrl = new URL(target);
  let cuts = 0;
  const server = createServer((req, res) => {
    const upstream = httpRequest({ host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers });
    let idle: NodeJS.Timeout | undefined;
    const cut = () => {
      cuts++;
      upstream.destroy();
      res.destroy();
    };
    const quiet = () => {
      clearTimeout(idle);
      idle = setTimeout(cut, idleMs);
    };
    quiet();
    upstream.on("response", (answer) => {
      quiet();
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      res.flushHeaders();
      answer.on("data", (chunk: Buffer) => {
        quiet();
        res.write(chunk);
      });
      answer.on("end", () => {
        clearTimeout(idle);
        res.end();
      });
    });
    upstream.on("error", () => {
      clearTimeout(idle);
      res.destroy();
    });
    res.on("close", () => {
      clearTimeout(idle);
      upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    get cuts() {
      return cuts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
