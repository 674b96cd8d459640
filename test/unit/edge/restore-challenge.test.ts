/**
 * The edge function that restores the 401 challenge, given origin-response events shaped as CloudFront documents
 * them (docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html#example-origin-response):
 * header keys lower-cased, each a list of { key, value }, status as a string.
 */
import type { CloudFrontHeaders, CloudFrontResponseEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { handler } from "../../../functions/edge/restore-challenge.js";

const CHALLENGE = 'Bearer error="invalid_request", error_description="No bearer token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"';

function originResponse(status: string, headers: CloudFrontHeaders): CloudFrontResponseEvent {
  return {
    Records: [
      {
        cf: {
          config: { distributionDomainName: "d111111abcdef8.cloudfront.net", distributionId: "EDFDVBD6EXAMPLE", eventType: "origin-response", requestId: "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ==" },
          request: {
            clientIp: "203.0.113.178",
            headers: { host: [{ key: "Host", value: "abc.lambda-url.eu-west-1.on.aws" }] },
            method: "POST",
            querystring: "",
            uri: "/mcp",
            origin: { custom: { customHeaders: {}, domainName: "abc.lambda-url.eu-west-1.on.aws", keepaliveTimeout: 5, path: "", port: 443, protocol: "https", readTimeout: 60, sslProtocols: ["TLSv1.2"] } },
          },
          response: { status, statusDescription: status === "401" ? "Unauthorized" : "OK", headers },
        },
      },
    ],
  };
}

describe("restoring the challenge at the edge", () => {
  it("renames x-amzn-Remapped-WWW-Authenticate back to WWW-Authenticate on a 401, value untouched", async () => {
    const response = await handler(
      originResponse("401", {
        "x-amzn-remapped-www-authenticate": [{ key: "x-amzn-Remapped-WWW-Authenticate", value: CHALLENGE }],
        "content-type": [{ key: "Content-Type", value: "application/json" }],
      }),
    );
    expect(response.status).toBe("401");
    expect(response.headers).toEqual({
      "www-authenticate": [{ key: "WWW-Authenticate", value: CHALLENGE }],
      "content-type": [{ key: "Content-Type", value: "application/json" }],
    });
  });

  it("keeps every challenge of a header that came more than once, in order", async () => {
    const second = 'Bearer error="insufficient_scope", scope="mcp.tools"';
    const response = await handler(
      originResponse("403", { "x-amzn-remapped-www-authenticate": [{ key: "x-amzn-Remapped-WWW-Authenticate", value: CHALLENGE }, { key: "x-amzn-Remapped-WWW-Authenticate", value: second }] }),
    );
    expect(response.headers?.["www-authenticate"]?.map((h) => h.value)).toEqual([CHALLENGE, second]);
  });

  it("keeps a challenge that arrived under its own name, dropping a renamed copy", async () => {
    const response = await handler(
      originResponse("401", {
        "www-authenticate": [{ key: "WWW-Authenticate", value: CHALLENGE }],
        "x-amzn-remapped-www-authenticate": [{ key: "x-amzn-Remapped-WWW-Authenticate", value: "Bearer realm=\"other\"" }],
      }),
    );
    expect(response.headers).toEqual({ "www-authenticate": [{ key: "WWW-Authenticate", value: CHALLENGE }] });
  });

  it("leaves every other response as it came", async () => {
    const headers = { "content-type": [{ key: "Content-Type", value: "text/event-stream" }], "mcp-session-id": [{ key: "Mcp-Session-Id", value: "abc" }] };
    const event = originResponse("200", structuredClone(headers));
    expect(await handler(event)).toEqual({ status: "200", statusDescription: "OK", headers });
  });
});
