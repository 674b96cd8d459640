/**
 * A stand-in for CloudFront with an origin-response Lambda@Edge function: each origin response's status and headers
 * are handed to the function in the event shape CloudFront documents (lower-case keys, each a list of
 * `{ key, value }`), the headers it returns are the ones sent on, and the body streams through untouched, as
 * CloudFront passes a chunked origin response on as it arrives.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type { CloudFrontHeaders, CloudFrontResponseEvent, CloudFrontResultResponse } from "aws-lambda";
import { startRewritingProxy, type RewritingProxy } from "./rewriting-proxy.js";

export type OriginResponseHandler = (event: CloudFrontResponseEvent) => Promise<CloudFrontResultResponse>;

export type EdgeFunctionProxy = RewritingProxy;

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
export function startEdgeFunctionProxy(target: string, handler: OriginResponseHandler): Promise<EdgeFunctionProxy> {
  return startRewritingProxy(target, async (answer, request) => {
    const status = String(answer.statusCode ?? 502);
    const result = await handler({
      Records: [
        {
          cf: {
            config: { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE", eventType: "origin-response", requestId: "stand-in" },
            request: { clientIp: "127.0.0.1", headers: toCloudFront(request.headers), method: request.method, querystring: "", uri: request.url },
            response: { status, statusDescription: answer.statusMessage ?? "", headers: toCloudFront(answer.headers) },
          },
        },
      ],
    });
    return { status: Number(result.status ?? status), headers: fromCloudFront(result.headers) };
  });
}
