/**
 * Lambda@Edge, origin response: gives the 401 challenge back its name. Lambda's front ends rename a function's
 * `WWW-Authenticate` response header to `x-amzn-Remapped-WWW-Authenticate` (documented for API Gateway's REST APIs,
 * reported for HTTP APIs and function URLs), and MCP clients that start sign-in from the challenge then never do.
 * An origin-response function is the one edge function CloudFront runs on responses of 400 and above (a CloudFront
 * Function on viewer response is not run for them: docs/aws.md).
 *
 * It runs in CloudFront's edge locations, not beside the gateway: no imports, nothing but the response's headers.
 */
import type { CloudFrontResponseEvent, CloudFrontResultResponse } from "aws-lambda";

/** The name the header arrives under, lower-cased as CloudFront keys its headers. */
export const REMAPPED_CHALLENGE = "x-amzn-remapped-www-authenticate";
const CHALLENGE = "www-authenticate";

export async function handler(event: CloudFrontResponseEvent): Promise<CloudFrontResultResponse> {
  const response = event.Records[0]?.cf.response;
  if (!response) throw new Error("not a CloudFront response event");
  const headers = response.headers;
  const renamed = headers[REMAPPED_CHALLENGE];
  if (renamed && renamed.length > 0) {
    // A challenge under its own name is the origin's word: it is kept, and the renamed copy dropped either way.
    headers[CHALLENGE] ??= renamed.map(({ value }) => ({ key: "WWW-Authenticate", value }));
    delete headers[REMAPPED_CHALLENGE];
  }
  return response;
}
