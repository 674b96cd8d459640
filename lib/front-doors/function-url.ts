/**
 * The default front door: the function's own URL, in RESPONSE_STREAM mode (SSE streamed as produced, requests up to
 * the function's 15-minute timeout, no API Gateway in the path to rename `WWW-Authenticate` or add a stage to the
 * path; docs/aws.md has the evidence). AuthType NONE: the function authenticates every request itself.
 *
 * With a custom domain, CloudFront serves it (cloudfront.ts), as it does any front door.
 */
import { Duration, Fn } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import type { Construct } from "constructs";
import type { BuiltFrontDoor, FrontDoorOptions } from "./types.js";

export function functionUrlFrontDoor(scope: Construct, { fn }: FrontDoorOptions): BuiltFrontDoor {
  // Creates the resource policy AWS requires of a public function URL: lambda:InvokeFunctionUrl with
  // FunctionUrlAuthType NONE, and lambda:InvokeFunction with InvokedViaFunctionUrl (October 2025).
  const functionUrl = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.RESPONSE_STREAM });
  // The URL ends in "/" and is known only at deploy time: its host is `https://<host>/` split on "/", third part. The
  // function learns it from each request instead (Lambda routes only its own host name to it).
  const host = Fn.select(2, Fn.split("/", functionUrl.url));
  return {
    url: `https://${host}`,
    urlKnownToFunction: false,
    // Lambda's own count of the URL's 5xx answers (AWS/Lambda, dimension FunctionName).
    serverErrors: fn.metric("Url5xxCount", { statistic: "Sum", period: Duration.minutes(5) }),
    origin: (props) => new origins.FunctionUrlOrigin(functionUrl, props),
  };
}
