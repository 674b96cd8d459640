/**
 * The reusable construct: the gateway's Lambda function behind an API Gateway front door, its policy path in SSM
 * Parameter Store, logs, metrics and alarms. Put it in any stack; `GatewayStack` is the ready-made one.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as ssm from "aws-cdk-lib/aws-ssm";
import { Construct } from "constructs";
import { METRICS_NAMESPACE, METRIC_NAMES } from "../functions/metrics.js";
import { functionEnvironment, validateSettings, type GatewaySettings } from "./gateway-settings.js";
import { createFrontDoor, type CustomDomain, type FrontDoorResources } from "./front-door.js";

/**
 * The gateway's own credential for the backend, sent in `header` on every backend request (the caller's token never
 * is). Kept in Secrets Manager or in an SSM SecureString parameter; the function may read exactly that one.
 */
export type BackendCredential =
  | { header: string; secret: secretsmanager.ISecret }
  | { header: string; parameter: ssm.IParameter };

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT_SEED_POLICY = fileURLToPath(new URL("../policies/stack-default.yaml", import.meta.url));

/** Name of the one policy parameter the stack owns, under the policy path. */
export const SEED_PARAMETER_NAME = "stack-default";

export interface McpSsoGatewayProps extends GatewaySettings {
  /** Memory of the function, in MB. Default 512 (more memory also means more CPU for token checks). */
  memorySize?: number;
  /**
   * Function timeout. Default 29 seconds on the HTTP API front door (API Gateway ends requests at 30 s), 15 minutes on
   * the streaming REST front door.
   */
  timeout?: Duration;
  /** How long the backend may take to send response headers. Default 25 s (HTTP API) or 60 s (streaming). */
  backendTimeout?: Duration;
  /** How long a loaded policy is used before SSM is read again. Default 60 seconds. */
  policyCacheTime?: Duration;
  /**
   * The policy document the stack seeds at `<policyPath>/stack-default`. Default `policies/stack-default.yaml`, which
   * grants nothing: a fresh gateway answers, and refuses every tool until an admin pushes a policy.
   */
  seedPolicyFile?: string;
  /** The customer-managed KMS key of SecureString policy parameters; the function may then decrypt with it. */
  policyKmsKey?: kms.IKey;
  /** Retention of the function's and the API's logs. Default one month. */
  logRetention?: logs.RetentionDays;
  /** Serve on your own domain (needed for the RFC 9728 well-known URI at the host root on the REST front door). */
  customDomain?: CustomDomain;
  /** Place the function in a VPC, to reach a private backend. */
  vpc?: ec2.IVpc;
  /** Subnets of `vpc` for the function. Default: the VPC's private subnets. */
  vpcSubnets?: ec2.SubnetSelection;
  /** Security groups of the function in `vpc`. */
  securityGroups?: ec2.ISecurityGroup[];
  /** A credential the gateway sends to a protected backend. Default: none. */
  backendCredential?: BackendCredential;
  /**
   * A token the gateway mints per backend request, naming the caller, signed with a private JWK kept in `key` (a
   * secret or a SecureString parameter, readable by the function alone); its JWKS is served at /.well-known/jwks.json.
   */
  backendToken?: { header: string; key: secretsmanager.ISecret | ssm.IParameter; claims?: string[] };
}

export class McpSsoGateway extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly frontDoor: FrontDoorResources;
  /** The parameter the stack owns under the policy path; everything else there belongs to the policy admins. */
  readonly seedPolicy: ssm.StringParameter;
  /** The public MCP endpoint, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/mcp`. */
  readonly mcpUrl: string;
  /** The RFC 9728 metadata URL the 401 challenge points at. */
  readonly metadataUrl: string;
  readonly policyPath: string;

  constructor(scope: Construct, id: string, props: McpSsoGatewayProps) {
    super(scope, id);
    validateSettings(props);
    const streaming = props.frontDoor === "restStreaming";
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.policyPath = props.policyPath;

    this.seedPolicy = new ssm.StringParameter(this, "SeedPolicy", {
      parameterName: `${props.policyPath}/${SEED_PARAMETER_NAME}`,
      description: "Owned by the mcp-sso-gateway stack. Policy admins push their own documents next to it.",
      stringValue: readFileSync(props.seedPolicyFile ?? DEFAULT_SEED_POLICY, "utf8"),
      tier: ssm.ParameterTier.STANDARD,
    });

    const logGroup = new logs.LogGroup(this, "FunctionLogs", { retention });
    this.function = new nodejs.NodejsFunction(this, "Function", {
      entry: fileURLToPath(new URL(`../functions/${streaming ? "streaming-handler" : "handler"}.ts`, import.meta.url)),
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? (streaming ? Duration.minutes(15) : Duration.seconds(29)),
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      description: "mcp-sso-gateway: enterprise JWT in, role-filtered MCP out",
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: true,
        mainFields: ["module", "main"],
        // Some dependencies are CommonJS and call require(); ESM bundles need it defined.
        banner: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
    });

    this.frontDoor = createFrontDoor(this, { fn: this.function, streaming, retention, customDomain: props.customDomain });
    this.mcpUrl = `${this.frontDoor.publicUrl}/mcp`;
    this.metadataUrl = `${this.frontDoor.publicUrl}/.well-known/oauth-protected-resource/mcp`;

    const environment: Record<string, string> = {
      ...functionEnvironment(props),
      PUBLIC_URL: this.frontDoor.publicUrl,
      POLICY_CACHE_SECONDS: String((props.policyCacheTime ?? Duration.seconds(60)).toSeconds()),
      BACKEND_TIMEOUT_MS: String((props.backendTimeout ?? Duration.seconds(streaming ? 60 : 25)).toMilliseconds()),
      POWERTOOLS_SERVICE_NAME: "mcp-sso-gateway",
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      NODE_OPTIONS: "--enable-source-maps",
    };
    for (const [name, value] of Object.entries(environment)) this.function.addEnvironment(name, value);
    if (props.backendCredential) this.useBackendCredential(props.backendCredential);
    if (props.backendToken) this.useBackendToken(props.backendToken);

    this.grantPolicyRead(props.policyPath, props.policyKmsKey);
    this.addAlarms();
  }

  /** Exactly the policy path, nothing beyond it: GetParametersByPath is authorized against the path asked for. */
  private grantPolicyRead(policyPath: string, key: kms.IKey | undefined): void {
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["ssm:GetParametersByPath"],
        resources: [Stack.of(this).formatArn({ service: "ssm", resource: "parameter", resourceName: policyPath.slice(1) })],
      }),
    );
    // SecureStrings under the AWS managed key need no grant; a customer-managed key must allow decryption.
    key?.grantDecrypt(this.function);
  }

  private useBackendCredential(credential: BackendCredential): void {
    this.function.addEnvironment("BACKEND_CREDENTIAL_HEADER", credential.header);
    if ("secret" in credential) {
      this.function.addEnvironment("BACKEND_CREDENTIAL_SECRET_ID", credential.secret.secretArn);
      credential.secret.grantRead(this.function);
    } else {
      this.function.addEnvironment("BACKEND_CREDENTIAL_SSM_PARAMETER", credential.parameter.parameterName);
      credential.parameter.grantRead(this.function);
    }
  }

  private useBackendToken(token: NonNullable<McpSsoGatewayProps["backendToken"]>): void {
    this.function.addEnvironment("BACKEND_TOKEN_HEADER", token.header);
    if (token.claims) this.function.addEnvironment("BACKEND_TOKEN_CLAIMS", token.claims.join(","));
    if ("secretArn" in token.key) {
      this.function.addEnvironment("BACKEND_TOKEN_KEY_SECRET_ID", token.key.secretArn);
    } else {
      this.function.addEnvironment("BACKEND_TOKEN_KEY_SSM_PARAMETER", token.key.parameterName);
    }
    token.key.grantRead(this.function);
  }

  private addAlarms(): void {
    const gatewayMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: "mcp-sso-gateway" },
        statistic: "Sum",
        period: Duration.minutes(5),
      });
    new cloudwatch.Alarm(this, "PolicyLoadFailuresAlarm", {
      metric: gatewayMetric(METRIC_NAMES.policyLoadFailures),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: "A policy document under the policy path failed to load: the last good policy stays in force (or, with none, every request is refused) until it is fixed.",
    });
    new cloudwatch.Alarm(this, "BackendErrorsAlarm", {
      metric: gatewayMetric(METRIC_NAMES.backendErrors),
      threshold: 5,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: "The backend MCP server was unreachable, too slow or answered garbage (502/504) 5 times in 5 minutes.",
    });
    new cloudwatch.Alarm(this, "ServerErrorsAlarm", {
      metric: this.frontDoor.serverErrors,
      threshold: 5,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: "The gateway answered 5xx 5 times in 5 minutes.",
    });
  }
}
