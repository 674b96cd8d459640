/**
 * The REST API front door with Lambda response streaming: SSE streamed as produced, requests up to 15 minutes. Its
 * execute-api URL carries the stage as the first path segment (`/prod/mcp`), so no host-root well-known URI is
 * routable there: give it a custom domain, which CloudFront serves with the stage as the origin's path, so the host
 * root is the stage's root (the stack warns at synth otherwise).
 *
 * It creates no `AWS::ApiGateway::Account`: API Gateway's CloudWatch role is one per account and region, shared by
 * every REST API there, and a stack that set it would replace the account's role and leave it behind on destroy.
 * The stage's logs need that role to be set already (docs/aws.md says how to check).
 */
import { Aws, Duration, Fn } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as origins from "aws-cdk-lib/aws-cloudfront-origins";
import * as logs from "aws-cdk-lib/aws-logs";
import * as wafv2 from "aws-cdk-lib/aws-wafv2";
import type { Construct } from "constructs";
import type { BuiltFrontDoor, FrontDoorOptions } from "./types.js";
import { REST_API_ACCESS_LOG_FORMAT } from "./access-log-format.js";

/** The REST API's stage: its name is the first segment of the execute-api URL. */
export const REST_STAGE = "prod";

export function restStreamingFrontDoor(scope: Construct, options: FrontDoorOptions): BuiltFrontDoor {
  const { fn, retention, customDomain, webAclArn, throttling, tracing, apiName } = options;
  const integration = new apigw.LambdaIntegration(fn, {
    proxy: true,
    responseTransferMode: apigw.ResponseTransferMode.STREAM,
    timeout: Duration.minutes(15),
  });
  const api = new apigw.RestApi(scope, "RestApi", {
    restApiName: apiName,
    description: "mcp-sso-gateway (response streaming)",
    endpointTypes: [apigw.EndpointType.REGIONAL],
    cloudWatchRole: false,
    deployOptions: {
      stageName: REST_STAGE,
      accessLogDestination: new apigw.LogGroupLogDestination(new logs.LogGroup(scope, "AccessLogs", { retention })),
      accessLogFormat: REST_API_ACCESS_LOG_FORMAT,
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      tracingEnabled: tracing,
      throttlingRateLimit: throttling?.rateLimit,
      throttlingBurstLimit: throttling?.burstLimit,
    },
  });
  api.root.addMethod("ANY", integration);
  api.root.addProxy({ defaultIntegration: integration, anyMethod: true });
  // With a custom domain the web ACL is CloudFront's (cloudfront.ts); without one, the stage's.
  if (webAclArn && !customDomain) {
    new wafv2.CfnWebACLAssociation(scope, "WebAclAssociation", { resourceArn: api.deploymentStage.stageArn, webAclArn });
  }
  // Built from the API id rather than `api.url`, so the function's environment does not depend on the deployment.
  const host = Fn.join("", [api.restApiId, ".execute-api.", Aws.REGION, ".", Aws.URL_SUFFIX]);
  return {
    url: Fn.join("", ["https://", host, `/${REST_STAGE}`]),
    urlKnownToFunction: true,
    serverErrors: api.metricServerError({ period: Duration.minutes(5), statistic: "Sum" }),
    origin: (props) => new origins.HttpOrigin(host, { ...props, originPath: `/${REST_STAGE}` }),
  };
}
