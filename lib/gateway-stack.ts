/** The ready-made stack: one gateway, its outputs, and the cdk-nag findings it accepts, each with its reason. */
import { CfnOutput, Stack, Validations, type StackProps } from "aws-cdk-lib";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { backendServers } from "./backends-context.js";
import type { DeploymentOptions } from "./deployment-options.js";
import type { GatewaySettings } from "./gateway-settings.js";
import { McpSsoGateway, type McpSsoGatewayProps } from "./mcp-sso-gateway.js";

export interface GatewayStackProps extends StackProps {
  settings: GatewaySettings;
  /** The stack's shape from context: custom domain, WAF, alarm topic, capacity, tracing (deployment-options.ts). */
  deployment?: DeploymentOptions;
  /** Further construct options (timeouts, VPC, credentials...); they take precedence over `deployment`. */
  gateway?: Omit<McpSsoGatewayProps, keyof GatewaySettings>;
}

export class GatewayStack extends Stack {
  readonly gateway: McpSsoGateway;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    const { backends, ...settings } = props.settings;
    this.gateway = new McpSsoGateway(this, "Gateway", {
      ...settings,
      backends: backends && backendServers(this, backends),
      ...this.constructOptions(props.deployment ?? {}),
      ...props.gateway,
    });
    const { gateway } = this;

    new CfnOutput(this, "McpEndpointUrl", { value: gateway.mcpUrl, description: "Point MCP clients here" });
    const serverUrls = Object.values(gateway.serverUrls);
    if (serverUrls.length > 0) {
      new CfnOutput(this, "McpServerEndpoints", {
        value: serverUrls.join(","),
        description: "Each backend server's own MCP endpoint (McpEndpointUrl/<name>), comma-separated, in the order of 'backends'",
      });
    }
    new CfnOutput(this, "ProtectedResourceMetadataUrl", { value: gateway.metadataUrl, description: "RFC 9728 document" });
    new CfnOutput(this, "PolicySsmPath", { value: gateway.policyPath, description: "Push policy documents under this path" });
    new CfnOutput(this, "FunctionName", { value: gateway.function.functionName, description: "The gateway's Lambda function" });
    new CfnOutput(this, "LogGroupName", { value: gateway.logGroup.logGroupName, description: "aws logs tail <this> --follow: one line per request" });
    new CfnOutput(this, "AlarmTopicArn", { value: gateway.alarmTopic.topicArn, description: "Subscribe to be told of alarms" });
    if (gateway.frontDoor.dnsTarget) {
      new CfnOutput(this, "DnsTarget", { value: gateway.frontDoor.dnsTarget, description: "Point the custom domain's DNS record (CNAME or alias) here" });
    }
    this.acceptNagFindings();
  }

  private constructOptions(options: DeploymentOptions): Partial<McpSsoGatewayProps> {
    const { domainName, certificateArn, throttlingRateLimit: rateLimit, throttlingBurstLimit: burstLimit } = options;
    return {
      memorySize: options.memorySize,
      customDomain: domainName && certificateArn ? { domainName, certificate: acm.Certificate.fromCertificateArn(this, "Certificate", certificateArn) } : undefined,
      webAclArn: options.webAclArn,
      alarmTopic: options.alarmTopicArn ? sns.Topic.fromTopicArn(this, "AlarmTopic", options.alarmTopicArn) : undefined,
      alarmEmail: options.alarmEmail,
      reservedConcurrency: options.reservedConcurrency,
      throttling: rateLimit !== undefined || burstLimit !== undefined ? { rateLimit, burstLimit } : undefined,
      tracing: options.tracing,
    };
  }

  /** cdk-nag (AwsSolutions) findings this stack accepts, each with the reason it is right here. */
  private acceptNagFindings(): void {
    const accepted: Array<[string, string]> = [
      [
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]",
        "In a VPC, Lambda needs to create and delete the function's network interfaces: the AWS-managed minimum for that.",
      ],
      [
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray (with tracing on) accepts trace segments only on Resource \"*\"; nothing else of the role has a wildcard.",
      ],
      [
        "AwsSolutions-APIG4",
        "Authorization is the gateway itself: the function verifies every caller's JWT (issuer, audience, JWKS) and must answer 401 with the MCP challenge itself.",
      ],
      [
        "AwsSolutions-COG4",
        "Callers bring tokens from the enterprise identity provider (Entra ID, Okta, Keycloak...), verified by the function; a Cognito authorizer would not accept them.",
      ],
      [
        "AwsSolutions-APIG2",
        "Requests are validated by the function (JSON-RPC parsing, size, content type) with MCP-specific errors that API Gateway request validation cannot express.",
      ],
      ["AwsSolutions-L1", "Pinned to Node.js 22, the runtime the project's tests and benchmarks run on; move to a newer one deliberately."],
      [
        "AwsSolutions-SMG4",
        "The session key only binds MCP session ids to their callers (rotating it ends every open session), and the edge secret is compared on each request (rotating it needs CloudFront updated in step): rotate either deliberately.",
      ],
      ["AwsSolutions-APIG3", "A WAF web ACL is an organisation-wide choice with its own cost: give one with -c webAclArn where it is required."],
      ["AwsSolutions-CFR2", "A WAF web ACL is an organisation-wide choice with its own cost: give one with -c webAclArn where it is required."],
      ["AwsSolutions-CFR1", "Who may call is decided by the identity provider's tokens, not by country."],
      ["AwsSolutions-CFR3", "The function writes one access-log line per request (its log group, output LogGroupName); CloudFront's logs would repeat them."],
      [
        "AwsSolutions-SNS2",
        "CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and the alarm messages carry no secrets.",
      ],
    ];
    for (const [id, reason] of accepted) Validations.of(this).acknowledge({ id, reason });
  }
}
