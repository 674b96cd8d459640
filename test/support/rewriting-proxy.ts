/**
 * An HTTP proxy on loopback that passes requests through as they came (the Host header included, so the gateway
 * behind it names the proxy's URL as its resource) and lets a test rewrite each answer's status and headers before
 * they go out; bodies stream, and an answer's headers go out at once (an event stream may be quiet for long).
 */
import { createServer, request as forward, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface RewritingProxy {
  /** The proxy's origin, e.g. `http://127.0.0.1:40001`. */
  origin: string;
  close(): Promise<void>;
}

/** What goes out instead of the answer's status and headers. */
export type AnswerRewrite = (answer: IncomingMessage, request: { method: string; url: string; headers: IncomingHttpHeaders }) => Promise<{ status: number; headers: OutgoingHttpHeaders }>;

/** @param target the origin requests are passed to. */
export async function startRewritingProxy(target: string, rewrite: AnswerRewrite): Promise<RewritingProxy> {
  const to = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const upstream = forward({ host: to.hostname, port: to.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      rewrite(answer, { method: incoming.method ?? "GET", url: incoming.url ?? "/", headers: incoming.headers }).then(
        ({ status, headers }) => {
          outgoing.writeHead(status, headers);
          outgoing.flushHeaders();
          answer.pipe(outgoing);
        },
        () => outgoing.writeHead(502).end(),
      );
    });
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
