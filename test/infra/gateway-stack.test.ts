/**
 * The infrastructure, proven by synthesis: template assertions for every front door, and cdk-nag's AwsSolutions
 * checks with nothing left unacknowledged. (Stack hygiene, custom domains and linting have files of their own.)
 */
import { App, Duration, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as acm from "aws-cdk-lib/aws-certificatemanager";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as kms from "aws-cdk-lib/aws-kms";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ssm from "aws-cdk-lib/aws-ssm";
import { AwsSolutionsChecks } from "cdk-nag";
import { beforeAll, describe, expect, it } from "vitest";
import { METRICS_NAMESPACE } from "../../functions/metrics.js";
import type { FrontDoor } from "../../lib/gateway-settings.js";
import { GatewayStack } from "../../lib/gateway-stack.js";
import { McpSsoGateway } from "../../lib/mcp-sso-gateway.js";
import { FRONT_DOORS_UNDER_TEST, SETTINGS, functionVariables, policyStatements, readable, synthConstruct, synthStack as synth } from "../support/synth-stack.js";

describe.each(FRONT_DOORS_UNDER_TEST)("the %s stack", (frontDoor) => {
  let app: App;
  let stack: Stack;
  let template: Template;
  beforeAll(() => {
    ({ app, stack, template } = synth(frontDoor));
  });

  it("runs the gateway on Node.js 22 or newer, arm64, with JSON logs and the validated settings as environment", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: Match.stringLikeRegexp("^nodejs(2[2-9]|[3-9]\\d)\\.x$"),
      Architectures: ["arm64"],
      Handler: "index.handler",
      MemorySize: 512,
      Timeout: frontDoor === "httpApi" ? 29 : 900,
      LoggingConfig: Match.objectLike({ LogFormat: "JSON" }),
      Environment: {
        Variables: Match.objectLike({
          MCP_BACKEND_URL: SETTINGS.backendUrl,
          JWT_ISSUER: SETTINGS.issuer,
          JWT_AUDIENCE: SETTINGS.audience.join(","),
          JWKS_URI: SETTINGS.jwksUri,
          POLICY_SSM_PATH: SETTINGS.policyPath,
          ROLES_CLAIM: "roles",
          POLICY_CACHE_SECONDS: "60",
          BACKEND_TIMEOUT_MS: frontDoor === "httpApi" ? "25000" : "60000",
          // A function URL's address cannot be handed to its own function: it is taken from each request.
          PUBLIC_URL: frontDoor === "functionUrl" ? Match.absent() : Match.anyValue(),
        }),
      },
    });
  });

  it("lets the function read exactly the policy path, and nothing else of SSM or KMS", () => {
    const statements = policyStatements(template);
    const ssmOrKms = statements.filter((s) => JSON.stringify(s.Action).match(/ssm:|kms:/));
    expect(ssmOrKms).toEqual([
      {
        Action: "ssm:GetParametersByPath",
        Effect: "Allow",
        Resource: {
          "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":ssm:", { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, `:parameter${SETTINGS.policyPath}`]],
        },
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain("*");
  });

  it("seeds one parameter it owns under the policy path, granting nothing", () => {
    const parameters = template.findResources("AWS::SSM::Parameter");
    expect(Object.values(parameters)).toHaveLength(1);
    template.hasResourceProperties("AWS::SSM::Parameter", {
      Name: `${SETTINGS.policyPath}/stack-default`,
      Type: "String",
      Value: Match.stringLikeRegexp("description: Stack default"),
    });
    const value = (Object.values(parameters)[0] as { Properties: { Value: string } }).Properties.Value;
    expect(value).not.toMatch(/^(tools|prompts|resources|rules|mcpAuthorization):/m);
  });

  it("keeps logs for a month: the function's and, behind API Gateway, the API's access logs", () => {
    template.resourcePropertiesCountIs("AWS::Logs::LogGroup", { RetentionInDays: 30 }, frontDoor === "functionUrl" ? 1 : 2);
  });

  it("alarms on backend errors, on 5xx answers, on function errors and on policy documents that fail to load", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { Namespace: METRICS_NAMESPACE, MetricName: "BackendErrors", Threshold: 5 });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { Namespace: METRICS_NAMESPACE, MetricName: "PolicyLoadFailures", Threshold: 1 });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { Namespace: "AWS/Lambda", MetricName: "Errors", Threshold: 1 });
    const serverErrors = { functionUrl: ["AWS/Lambda", "Url5xxCount"], httpApi: ["AWS/ApiGateway", "5xx"], restStreaming: ["AWS/ApiGateway", "5XXError"] }[frontDoor];
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { Namespace: serverErrors[0], MetricName: serverErrors[1], Threshold: 5 });
  });

  it("outputs the MCP endpoint, the metadata URL, the policy path, the function and its log group", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const base = {
      functionUrl: "https://{{FunctionFunctionUrl.FunctionUrl}.split(\"/\")[2]}",
      httpApi: "https://{HttpApi}.execute-api.{AWS::Region}.{AWS::URLSuffix}",
      restStreaming: "https://{RestApi}.execute-api.{AWS::Region}.{AWS::URLSuffix}/prod",
    }[frontDoor];
    expect(readable(outputs.McpEndpointUrl?.Value)).toBe(`${base}/mcp`);
    expect(readable(outputs.ProtectedResourceMetadataUrl?.Value)).toBe(`${base}/.well-known/oauth-protected-resource/mcp`);
    expect(outputs.PolicySsmPath?.Value).toBe(SETTINGS.policyPath);
    expect(readable(outputs.FunctionName?.Value)).toBe("{Function}");
    expect(readable(outputs.LogGroupName?.Value)).toBe("{FunctionLogs}");
    expect(readable(outputs.AlarmTopicArn?.Value)).toBe("{AlarmTopic}");
  });

  it("passes cdk-nag's AwsSolutions checks with nothing unacknowledged", () => {
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });
});

describe("front-door specifics", () => {
  it("functionUrl: the function's own URL, unauthenticated by Lambda (the function checks every token), streaming, 15 minutes", () => {
    const { template } = synth("functionUrl");
    template.resourcePropertiesCountIs("AWS::Lambda::Url", { AuthType: "NONE", InvokeMode: "RESPONSE_STREAM" }, 1);
    // Since October 2025 a public function URL needs both permissions in the resource policy.
    template.hasResourceProperties("AWS::Lambda::Permission", { Action: "lambda:InvokeFunctionUrl", Principal: "*", FunctionUrlAuthType: "NONE" });
    template.hasResourceProperties("AWS::Lambda::Permission", { Action: "lambda:InvokeFunction", Principal: "*", InvokedViaFunctionUrl: true });
    template.resourceCountIs("AWS::Lambda::Permission", 2);
    template.hasResourceProperties("AWS::Lambda::Function", { Timeout: 900 });
    template.resourceCountIs("AWS::ApiGateway::RestApi", 0);
    template.resourceCountIs("AWS::ApiGatewayV2::Api", 0);
    template.resourceCountIs("AWS::CloudFront::Distribution", 0);
  });

  it("httpApi: one $default stage with JSON access logs, every route to the function", () => {
    const { template } = synth("httpApi");
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ Format: Match.stringLikeRegexp("requestId") }),
    });
    template.hasResourceProperties("AWS::ApiGatewayV2::Route", { RouteKey: "$default" });
    template.hasResourceProperties("AWS::ApiGatewayV2::Integration", { IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
  });

  it("restStreaming: Lambda proxy integrations that stream, with a 15-minute timeout, on every path", () => {
    const { template } = synth("restStreaming");
    const methods = template.findResources("AWS::ApiGateway::Method");
    expect(Object.keys(methods).length).toBeGreaterThanOrEqual(2);
    for (const method of Object.values(methods) as Array<{ Properties: { HttpMethod: string; Integration: Record<string, unknown> } }>) {
      expect(method.Properties.HttpMethod).toBe("ANY");
      expect(method.Properties.Integration).toMatchObject({ Type: "AWS_PROXY", ResponseTransferMode: "STREAM", TimeoutInMillis: 900_000 });
      // Streaming needs the response-streaming invocation path; the ordinary one (2015-03-31/.../invocations) buffers.
      expect(readable(method.Properties.Integration.Uri)).toMatch(/:apigateway:\{AWS::Region\}:lambda:path\/2021-11-15\/functions\/\{Function\.Arn\}\/response-streaming-invocations$/);
    }
    template.hasResourceProperties("AWS::ApiGateway::Resource", { PathPart: "{proxy+}" });
    template.hasResourceProperties("AWS::ApiGateway::Stage", { StageName: "prod", AccessLogSetting: Match.objectLike({}) });
  });
});

describe("identity providers", () => {
  it("passes a preset and required scopes to the function", () => {
    const app = new App();
    const stack = new GatewayStack(app, "Preset", { settings: { ...SETTINGS, frontDoor: "httpApi", preset: "entra", requiredScopes: "mcp.tools" } });
    Template.fromStack(stack).hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ JWT_PRESET: "entra", JWT_REQUIRED_SCOPES: "mcp.tools" }) },
    });
  });

  it("passes several issuers as JWT_ISSUERS, without the single-issuer variables", () => {
    const issuers = JSON.stringify([
      { issuer: "https://login.microsoftonline.com/t/v2.0", audience: "api://mcp", preset: "entra" },
      { issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", audience: "client-1", preset: "cognito" },
    ]);
    const app = new App();
    const stack = new GatewayStack(app, "Several", { settings: { ...SETTINGS, issuer: "", audience: [], jwksUri: undefined, rolesClaim: undefined, frontDoor: "httpApi", issuers } });
    const variables = (Object.values(Template.fromStack(stack).findResources("AWS::Lambda::Function"))[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect(variables.JWT_ISSUERS).toBe(issuers);
    expect(variables).not.toHaveProperty("JWT_ISSUER");
    expect(variables).not.toHaveProperty("JWT_AUDIENCE");
  });

  it("passes browser origins and host names to the function, refusing a bad host at synth under its context key", () => {
    const stack = new GatewayStack(new App(), "Origins", { settings: { ...SETTINGS, frontDoor: "httpApi", corsAllowedOrigins: "https://app.example.com", allowedHosts: "mcp.example.com" } });
    Template.fromStack(stack).hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ CORS_ALLOWED_ORIGINS: "https://app.example.com", ALLOWED_HOSTS: "mcp.example.com" }) },
    });
    expect(() => new GatewayStack(new App(), "BadHost", { settings: { ...SETTINGS, frontDoor: "httpApi", allowedHosts: "https://mcp.example.com" } })).toThrow("'allowedHosts'.0 must list host names");
  });

  it("refuses a bad issuers list at synth, naming the place", () => {
    expect(() => new GatewayStack(new App(), "Bad", { settings: { ...SETTINGS, issuer: "", audience: [], jwksUri: undefined, rolesClaim: undefined, frontDoor: "httpApi", issuers: '[{"issuer":"https://a.example.com"}]' } })).toThrow(
      "'issuers'[0].audience is required",
    );
  });
});

describe("options", () => {
  it("grants decryption with a customer-managed key only when one is configured", () => {
    const stack = new Stack(new App(), "WithKey");
    const keyArn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    new McpSsoGateway(stack, "Gateway", { ...SETTINGS, frontDoor: "httpApi", policyKmsKey: kms.Key.fromKeyArn(stack, "Key", keyArn) });
    Template.fromStack(stack).hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: "kms:Decrypt", Resource: keyArn })]) },
    });
  });

  it("takes memory and timeouts as props", () => {
    const { template } = synth("httpApi", {}, { memorySize: 1024, timeout: Duration.seconds(20), backendTimeout: Duration.seconds(10) });
    template.hasResourceProperties("AWS::Lambda::Function", {
      MemorySize: 1024,
      Timeout: 20,
      Environment: { Variables: Match.objectLike({ BACKEND_TIMEOUT_MS: "10000" }) },
    });
  });
});

describe("optional placement and credentials", () => {
  const gatewayIn = (configure: (stack: Stack) => Partial<ConstructorParameters<typeof McpSsoGateway>[2]>, frontDoor: FrontDoor = "httpApi") =>
    synthConstruct(frontDoor, configure);

  it("sends a Secrets Manager secret to the backend, readable by the function and nothing more", () => {
    const { template, app, stack } = gatewayIn((stack) => ({
      backendCredential: { header: "X-Api-Key", secret: new secretsmanager.Secret(stack, "BackendKey") },
    }));
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ BACKEND_CREDENTIAL_HEADER: "X-Api-Key", BACKEND_CREDENTIAL_SECRET_ID: { Ref: Match.stringLikeRegexp("BackendKey") } }) },
    });
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: { Ref: Match.stringLikeRegexp("BackendKey") } })]) },
    });
    // The credential adds no finding beyond those GatewayStack accepts (and the test secret's own rotation rule).
    Validations.of(stack).acknowledge({ id: "AwsSolutions-SMG4", reason: "The test's secret is the user's: rotation is theirs to set up." });
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations.map((v) => v.ruleName)).toEqual(["AwsSolutions-L1", "AwsSolutions-APIG4"]);
  });

  it("mints tokens for the backend with a key only the function may read", () => {
    const { template } = gatewayIn((stack) => ({
      backendToken: { header: "X-Gateway-Token", key: new secretsmanager.Secret(stack, "TokenKey"), claims: ["sub", "email"] },
    }));
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({ BACKEND_TOKEN_HEADER: "X-Gateway-Token", BACKEND_TOKEN_CLAIMS: "sub,email", BACKEND_TOKEN_KEY_SECRET_ID: { Ref: Match.stringLikeRegexp("TokenKey") } }),
      },
    });
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: { Ref: Match.stringLikeRegexp("TokenKey") } })]) },
    });
  });

  it("sends an SSM SecureString to the backend", () => {
    const { template } = gatewayIn((stack) => ({
      backendCredential: { header: "Authorization", parameter: ssm.StringParameter.fromSecureStringParameterAttributes(stack, "P", { parameterName: "/gw/backend-token" }) },
    }));
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ BACKEND_CREDENTIAL_HEADER: "Authorization", BACKEND_CREDENTIAL_SSM_PARAMETER: "/gw/backend-token" }) },
    });
  });

  it("generates the session key by default, readable by the function alone, so every instance binds sessions alike", () => {
    const { template } = gatewayIn(() => ({}));
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
    });
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ SESSION_KEY_SECRET_ID: { Ref: Match.stringLikeRegexp("SessionKey") } }) },
    });
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: { Ref: Match.stringLikeRegexp("SessionKey") } })]) },
    });
  });

  it("takes a session key of the user's own, from SSM, instead of generating one", () => {
    const { template } = gatewayIn((stack) => ({
      sessionKey: ssm.StringParameter.fromSecureStringParameterAttributes(stack, "K", { parameterName: "/gw/session-key" }),
    }));
    template.resourceCountIs("AWS::SecretsManager::Secret", 0);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ SESSION_KEY_SSM_PARAMETER: "/gw/session-key" }) },
    });
  });

  it("places the function in a VPC's private subnets, to reach a private backend", () => {
    const { template } = gatewayIn((stack) => ({ vpc: new ec2.Vpc(stack, "Vpc", { maxAzs: 2 }) }));
    template.hasResourceProperties("AWS::Lambda::Function", {
      VpcConfig: { SubnetIds: Match.arrayWith([Match.objectLike({ Ref: Match.stringLikeRegexp("PrivateSubnet") })]), SecurityGroupIds: Match.anyValue() },
    });
  });

  it.each(["functionUrl", "httpApi", "restStreaming"] as const)("serves a custom domain on %s through CloudFront, in a stack of the user's own, and tells the function its public URL", (frontDoor) => {
    const { template } = gatewayIn(
      (stack) => ({
        customDomain: { domainName: "mcp.example.com", certificate: acm.Certificate.fromCertificateArn(stack, "Cert", "arn:aws:acm:us-east-1:111122223333:certificate/abc") },
      }),
      frontDoor,
    );
    template.resourceCountIs("AWS::CloudFront::Distribution", 1);
    template.hasResourceProperties("AWS::Lambda::Function", { Environment: { Variables: Match.objectLike({ PUBLIC_URL: "https://mcp.example.com" }) } });
  });
});
