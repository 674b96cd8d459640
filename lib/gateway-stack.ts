/** The ready-made stack: one gateway, its outputs, and the cdk-nag findings it accepts, each with its reason. */
import { CfnOutput, Stack, Validations, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { GatewaySettings } from "./gateway-settings.js";
import { McpSsoGateway, type McpSsoGatewayProps } from "./mcp-sso-gateway.js";

export interface GatewayStackProps extends StackProps {
  settings: GatewaySettings;
  /** Further construct options (memory, timeouts, VPC, custom domain...). */
  gateway?: Omit<McpSsoGatewayProps, keyof GatewaySettings>;
}

export class GatewayStack extends Stack {
  readonly gateway: McpSsoGateway;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    this.gateway = new McpSsoGateway(this, "Gateway", { ...props.settings, ...props.gateway });

    new CfnOutput(this, "McpEndpointUrl", { value: this.gateway.mcpUrl, description: "Point MCP clients here" });
    new CfnOutput(this, "ProtectedResourceMetadataUrl", { value: this.gateway.metadataUrl, description: "RFC 9728 document" });
    new CfnOutput(this, "PolicySsmPath", { value: this.gateway.policyPath, description: "Push policy documents under this path" });
    if (this.gateway.frontDoor.customDomainTarget) {
      new CfnOutput(this, "CustomDomainTarget", { value: this.gateway.frontDoor.customDomainTarget, description: "CNAME/alias target" });
    }
    this.acceptNagFindings();
  }

  /** cdk-nag (AwsSolutions) findings this stack accepts, each with the reason it is right here. */
  private acceptNagFindings(): void {
    const accepted: Array<[string, string]> = [
      ...[
        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
      ].map((policy): [string, string] => [
        `AwsSolutions-IAM4[${policy}]`,
        "The AWS-managed minimum for writing logs (and, in a VPC, for network interfaces); nothing broader.",
      ]),
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
        "The session key only binds MCP session ids to their callers; rotating it ends every open session (clients start new ones on 404). Rotate it deliberately with put-secret-value.",
      ],
      ["AwsSolutions-APIG3", "A WAF web ACL is an organisation-wide choice with its own cost; attach one to the stage where it is required."],
    ];
    for (const [id, reason] of accepted) Validations.of(this).acknowledge({ id, reason });
  }
}
