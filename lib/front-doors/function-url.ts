/**
 * The default front door: the function's own URL, in RESPONSE_STREAM mode (SSE streamed as produced, requests up to
 * the function's 15-minute timeout, no API Gateway in the path to rename `WWW-Authenticate` or add a stage to the
 * path; docs/aws.md has the evidence). AuthType NONE: the function authenticates every request itself.
 *
 * With a custom domain, CloudFront serves it (cloudfront.ts) and the function then requires the secret header
 * CloudFront adds, so the function URL cannot be used to go around the distribution and its WAF.
 */
import { Duration, Fn } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";
import type { FrontDoorOptions, FrontDoorResources } from "./types.js";
import { cloudFrontDistribution } from "./cloudfront.js";

export function functionUrlFrontDoor(scope: Construct, options: FrontDoorOptions): FrontDoorResources {
  const { fn, customDomain } = options;
  // Creates the resource policy AWS requires of a public function URL: lambda:InvokeFunctionUrl with
  // FunctionUrlAuthType NONE, and lambda:InvokeFunction with InvokedViaFunctionUrl (October 2025).
  const functionUrl = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.RESPONSE_STREAM });
  const serverErrors = new cloudwatch.Metric({
    namespace: "AWS/Lambda",
    metricName: "Url5xxCount",
    dimensionsMap: { FunctionName: fn.functionName },
    statistic: "Sum",
    period: Duration.minutes(5),
  });
  if (customDomain) {
    const distribution = cloudFrontDistribution(scope, { ...options, customDomain, functionUrl });
    const publicUrl = `https://${customDomain.domainName}`;
    return { functionPublicUrl: publicUrl, publicUrl, serverErrors, dnsTarget: distribution.domainName, environment: distribution.environment };
  }
  // The function learns its URL from each request (Lambda routes only its own host name to it). The URL ends in
  // "/" and is known only at deploy time: its host is `https://<host>/` split on "/", third part.
  const host = Fn.select(2, Fn.split("/", functionUrl.url));
  return { functionPublicUrl: undefined, publicUrl: `https://${host}`, serverErrors, environment: {} };
}
