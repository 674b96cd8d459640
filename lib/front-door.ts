/**
 * The two ways in: an HTTP API (`$default` stage, buffered, 30 s) or a REST API with Lambda response streaming
 * (SSE as produced, up to 15 minutes). Both send every path to the function, which routes `/mcp` and the RFC 9728
 * documents itself, and both write JSON access logs.
 */
import { Aws, Duration, Fn } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type * as acm from "aws-cdk-lib/aws-certificatemanager";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

export interface CustomDomain {
  /** e.g. `mcp.example.com`; point its DNS at the domain's regional target (output `CustomDomainTarget`). */
  domainName: string;
  /** An ACM certificate for `domainName`, in the stack's region. */
  certificate: acm.ICertificate;
}

export interface FrontDoorResources {
  /** HTTP API or REST API. */
  api: apigwv2.HttpApi | apigw.RestApi;
  /** Base URL clients use (no trailing slash); the function's PUBLIC_URL. */
  publicUrl: string;
  /** 5xx answers, summed over 5 minutes. */
  serverErrors: cloudwatch.IMetric;
  /** Regional target of the custom domain, for its DNS record. */
  customDomainTarget?: string;
}

interface FrontDoorOptions {
  fn: lambda.IFunction;
  streaming: boolean;
  retention: logs.RetentionDays;
  customDomain: CustomDomain | undefined;
}

/** The REST API's stage: its name is the first segment of the execute-api URL. */
const REST_STAGE = "prod";

function accessLogGroup(scope: Construct, retention: logs.RetentionDays): logs.LogGroup {
  return new logs.LogGroup(scope, "AccessLogs", { retention });
}

function httpApi(scope: Construct, { fn, retention, customDomain }: FrontDoorOptions): FrontDoorResources {
  const domain = customDomain
    ? new apigwv2.DomainName(scope, "Domain", { domainName: customDomain.domainName, certificate: customDomain.certificate })
    : undefined;
  const api = new apigwv2.HttpApi(scope, "HttpApi", {
    description: "mcp-sso-gateway",
    defaultIntegration: new HttpLambdaIntegration("Gateway", fn),
    createDefaultStage: false,
  });
  new apigwv2.HttpStage(scope, "DefaultStage", {
    httpApi: api,
    stageName: "$default",
    autoDeploy: true,
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(accessLogGroup(scope, retention)),
      format: apigw.AccessLogFormat.jsonWithStandardFields(),
    },
    domainMapping: domain ? { domainName: domain } : undefined,
  });
  return {
    api,
    publicUrl: domain ? `https://${customDomain?.domainName}` : `https://${api.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`,
    serverErrors: api.metricServerError({ period: Duration.minutes(5), statistic: "Sum" }),
    customDomainTarget: domain?.regionalDomainName,
  };
}

function restStreamingApi(scope: Construct, { fn, retention, customDomain }: FrontDoorOptions): FrontDoorResources {
  const integration = new apigw.LambdaIntegration(fn, {
    proxy: true,
    responseTransferMode: apigw.ResponseTransferMode.STREAM,
    timeout: Duration.minutes(15),
  });
  const api = new apigw.RestApi(scope, "RestApi", {
    description: "mcp-sso-gateway (response streaming)",
    endpointTypes: [apigw.EndpointType.REGIONAL],
    cloudWatchRole: true,
    deployOptions: {
      stageName: REST_STAGE,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup(scope, retention)),
      accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      tracingEnabled: true,
    },
    domainName: customDomain
      ? { domainName: customDomain.domainName, certificate: customDomain.certificate, endpointType: apigw.EndpointType.REGIONAL }
      : undefined,
  });
  api.root.addMethod("ANY", integration);
  api.root.addProxy({ defaultIntegration: integration, anyMethod: true });
  // Built from the API id rather than `api.url`, so the function's environment does not depend on the deployment.
  const executeApiUrl = Fn.join("", ["https://", api.restApiId, ".execute-api.", Aws.REGION, ".", Aws.URL_SUFFIX, `/${REST_STAGE}`]);
  return {
    api,
    publicUrl: customDomain ? `https://${customDomain.domainName}` : executeApiUrl,
    serverErrors: api.metricServerError({ period: Duration.minutes(5), statistic: "Sum" }),
    customDomainTarget: api.domainName?.domainNameAliasDomainName,
  };
}

export function createFrontDoor(scope: Construct, options: FrontDoorOptions): FrontDoorResources {
  return options.streaming ? restStreamingApi(scope, options) : httpApi(scope, options);
}
