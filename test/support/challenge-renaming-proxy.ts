/**
 * A proxy that does to the 401 challenge what API Gateway does to a Lambda proxy's response headers: it renames
 * `WWW-Authenticate` to `x-amzn-Remapped-WWW-Authenticate` (documented for REST APIs, reported for HTTP APIs:
 * anthropics/claude-ai-mcp issue 748), and passes everything else through as it came, the Host header included (so the
 * gateway behind it names the proxy's URL as the resource, as it names the front door's on AWS). Bodies stream.
 */
import { createServer, request as forward, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface RenamingProxy {
  /** The proxy's origin, e.g. `http://127.0.0.1:40001`. */
  origin: string;
  close(): Promise<void>;
}

/** Response headers (names in lower case) as API Gateway passes a Lambda proxy's on: WWW-Authenticate renamed. */
export function remapChallenge<T extends IncomingHttpHeaders | Record<string, string>>(headers: T): T {
  const { "www-authenticate": challenge, ...rest } = headers;
  return (challenge === undefined ? rest : { ...rest, "x-amzn-Remapped-WWW-Authenticate": challenge }) as T;
}

/** @param target the origin requests are passed to. */
export async function startRenamingProxy(target: string): Promise<RenamingProxy> {
  const to = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const upstream = forward(
      { host: to.hostname, port: to.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, remapChallenge(answer.headers));
        // An event stream may be quiet for long: its status and headers go out now, not with its first event.
        outgoing.flushHeaders();
        answer.pipe(outgoing);
      },
    );
    upstream.on("error", () => {
      if (!outgoing.headersSent) outgoing.writeHead(502).end();
      else outgoing.destroy();
    });
    outgoing.on("close", () => upstream.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
