/**
 * The HTTP API front door: `$default` stage (so `/mcp` and the host-root `/.well-known/...` URIs are all routed), a
 * buffered Lambda proxy with API Gateway's 30-second limit. API Gateway is reported to rename the function's
 * `WWW-Authenticate` (docs/aws.md), so clients that read only the challenge may not sign in: the default front door
 * is the function URL.
 */
import { Aws, Duration } from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type { FrontDoorOptions, FrontDoorResources } from "./types.js";
import { HTTP_API_ACCESS_LOG_FORMAT } from "./access-log-format.js";

export function httpApiFrontDoor(scope: Construct, { fn, retention, customDomain, throttling, apiName }: FrontDoorOptions): FrontDoorResources {
  const domain = customDomain
    ? new apigwv2.DomainName(scope, "Domain", { domainName: customDomain.domainName, certificate: customDomain.certificate })
    : undefined;
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
    domainMapping: domain ? { domainName: domain } : undefined,
  });
  const publicUrl = domain ? `https://${customDomain?.domainName}` : `https://${api.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
  return {
    functionPublicUrl: publicUrl,
    publicUrl,
    serverErrors: api.metricServerError({ period: Duration.minutes(5), statistic: "Sum" }),
    dnsTarget: domain?.regionalDomainName,
    environment: {},
  };
}
