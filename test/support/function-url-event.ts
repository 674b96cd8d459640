/**
 * A Lambda function URL event, as AWS documents it
 * (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads): payload format 2.0, like an
 * HTTP API's, on the URL's own domain `<url-id>.lambda-url.<region>.on.aws`, stage and route `$default`, and the
 * account "anonymous" for a URL without IAM auth.
 */
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { httpApiEvent, type ClientRequest } from "./api-gateway-events.js";

export const FUNCTION_URL_ID = "abcdefghijklmnopqrstuvwxyz012345";
export const FUNCTION_URL_DOMAIN = `${FUNCTION_URL_ID}.lambda-url.eu-west-1.on.aws`;

export function functionUrlEvent(request: ClientRequest): APIGatewayProxyEventV2 {
  const event = httpApiEvent(request, { domainName: FUNCTION_URL_DOMAIN, stage: "$default" });
  return { ...event, requestContext: { ...event.requestContext, accountId: "anonymous", apiId: FUNCTION_URL_ID } };
}
