/**
 * The HTTP API front door: `$default` stage (so `/mcp` and the host-root `/.well-known/...` URIs are all routed), a
 * buffered Lambda proxy with API Gateway's 30-second limit. API Gateway is reported to rename the function's
 * `WWW-Authenticate` (docs/aws.md): with a custom domain, CloudFront in front restores it.
 */
import { Aws, Duration } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { HTTP_API_ACCESS_LOG_FORMAT } from "./access-log-format.js";
import type { BuiltFrontDoor, FrontDoorOptions } from "./types.js";

export function httpApiFrontDoor(scope: Construct, { fn, retention, throttling, apiName }: FrontDoorOptions): BuiltFrontDoor {
  const api = new apigwv2.HttpApi(scope, "HttpApi", {
    apiName,
    description: "mcp-sso-gateway",
    defaultIntegration: new HttpLambdaIntegration("Gateway", fn),
    createDefaultStage: false,
  });
  new apigwv2.HttpStage(scope, "DefaultStage", {
    httpApi: api,
    stageName: "$default",
    autoDeploy: true,
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(new logs.LogGroup(scope, "AccessLogs", { retention })),
      format: HTTP_API_ACCESS_LOG_FORMAT,
    },
    throttle: throttling ? { rateLimit: throttling.rateLimit, burstLimit: throttling.burstLimit } : undefined,
  });
  const host = `${api.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
  return {
    url: `https://${host}`,
    urlKnownToFunction: true,
    serverErrors: api.metricServerError({ period: Duration.minutes(5), statistic: "Sum" }),
    origin: (props) => new origins.HttpOrigin(host, props),
  };
}
