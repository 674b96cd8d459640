/**
 * A stand-in for CloudFront with an origin-response Lambda@Edge function: each origin response's status and headers
 * are handed to the function in the event shape CloudFront documents (lower-case keys, each a list of
 * `{ key, value }`), the headers it returns are the ones sent on, and the body streams through untouched, as
 * CloudFront passes a chunked origin response on as it arrives.
 */
import { createServer, request as forward, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { CloudFrontHeaders, CloudFrontResponseEvent, CloudFrontResultResponse } from "aws-lambda";

export type OriginResponseHandler = (event: CloudFrontResponseEvent) => Promise<CloudFrontResultResponse>;

export interface EdgeFunctionProxy {
  origin: string;
  close(): Promise<void>;
}

function toCloudFront(headers: IncomingHttpHeaders): CloudFrontHeaders {
  const out: CloudFrontHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = (Array.isArray(value) ? value : [value]).map((v) => ({ key: name, value: v }));
  }
  return out;
}

function fromCloudFront(headers: CloudFrontHeaders | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, values] of Object.entries(headers ?? {})) out[values[0]?.key ?? name] = values.map((v) => v.value);
  return out;
}

/** @param target the origin; `handler` the origin-response function CloudFront would run. */
export async function startEdgeFunctionProxy(target: string, handler: OriginResponseHandler): Promise<EdgeFunctionProxy> {
  const to = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const upstream = forward({ host: to.hostname, port: to.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
      const status = String(answer.statusCode ?? 502);
      const event: CloudFrontResponseEvent = {
        Records: [
          {
            cf: {
              config: { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE", eventType: "origin-response", requestId: "stand-in" },
              request: { clientIp: "127.0.0.1", headers: toCloudFront(incoming.headers), method: incoming.method ?? "GET", querystring: "", uri: incoming.url ?? "/" },
              response: { status, statusDescription: answer.statusMessage ?? "", headers: toCloudFront(answer.headers) },
            },
          },
        ],
      };
      handler(event).then(
        (result) => {
          outgoing.writeHead(Number(result.status ?? status), fromCloudFront(result.headers));
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
