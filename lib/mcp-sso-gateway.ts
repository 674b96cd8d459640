/**
 * The reusable construct: the gateway's Lambda function behind its front door (its own URL by default, or API
 * Gateway), its policy path in SSM Parameter Store, logs, metrics and alarms. Its role may write its own log group,
 * read its own policy path and secrets, and nothing else. Put it in any stack; `GatewayStack` is the ready-made one.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Annotations, Duration, Names, Stack } from "aws-cdk-lib";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import * as ssm from "aws-cdk-lib/aws-ssm";
import { Construct } from "constructs";
import { addAlarms } from "./alarms.js";
import { backendPropsProblems, backendVariables, useBackends, type BackendServer } from "./backends.js";
import { createFrontDoor, type CustomDomain, type FrontDoorResources, type Throttling } from "./front-door.js";
import { FUNCTION_BUNDLING, FUNCTION_NODE_OPTIONS } from "./function-bundling.js";
import { generatedSessionKey, useSessionKey, type BackendCredential, type BackendToken } from "./function-secrets.js";
import { functionEnvironment, validateSettings, type GatewaySettings } from "./gateway-settings.js";

export type { BackendCredential, BackendToken } from "./function-secrets.js";
export type { BackendServer, BackendServerToken } from "./backends.js";

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEFAULT_SEED_POLICY = fileURLToPath(new URL("../policies/stack-default.yaml", import.meta.url));

/** Name of the one policy parameter the stack owns, under the policy path. */
export const SEED_PARAMETER_NAME = "stack-default";

export interface McpSsoGatewayProps extends Omit<GatewaySettings, "backends"> {
  /**
   * Several backend MCP servers (then leave `backendUrl` out), each served at `<mcpUrl>/<name>` (`serverUrls`) with
   * its own timeout, credential, identity headers, token and token exchange. Each credential's and each exchange's
   * secret, key or parameter is readable by the function alone, one grant each however many servers share it; tokens
   * are signed with `backendToken.key`, and
   * `backendCredential` (the single server's) is refused. Default: the single `backendUrl`.
   */
  backends?: BackendServer[];
  /** Memory of the function, in MB. Default 512 (more memory also means more CPU for token checks). */
  memorySize?: number;
  /**
   * Function timeout. Default 29 seconds on the HTTP API front door (API Gateway ends requests at 30 s), 15 minutes on
   * the streaming ones (function URL, REST).
   */
  timeout?: Duration;
  /**
   * How long the backend may take to send response headers; with `backends`, each server's default. Default 25 s
   * (HTTP API) or 60 s (streaming).
   */
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
  /**
   * Serve on your own domain, through CloudFront in front of the front door (which restores the 401 challenge, and
   * on REST puts the stage's root at the host root). The stack must then have a region (CloudFront's edge function).
   */
  customDomain?: CustomDomain;
  /** A WAF web ACL (ARN): CLOUDFRONT scope with a custom domain, REGIONAL on the REST stage without one. Default none. */
  webAclArn?: string;
  /** The SNS topic the alarms notify. Default: a topic the construct creates (`alarmTopic`). */
  alarmTopic?: sns.ITopic;
  /** An address the created alarm topic mails. Default: none (subscribe to `alarmTopic` yourself). */
  alarmEmail?: string;
  /** Instances of the function reserved (and at most running) at once. Default: none, the account's shared pool. */
  reservedConcurrency?: number;
  /** Request limits of the API Gateway stage. Default: the account's quota. Not for the function URL front door. */
  throttling?: Throttling;
  /** X-Ray tracing on the function and, where the front door has a stage that traces (REST), on it. Default off. */
  tracing?: boolean;
  /** Place the function in a VPC, to reach a private backend. */
  vpc?: ec2.IVpc;
  /** Subnets of `vpc` for the function. Default: the VPC's private subnets. */
  vpcSubnets?: ec2.SubnetSelection;
  /** Security groups of the function in `vpc`. */
  securityGroups?: ec2.ISecurityGroup[];
  /** A credential the gateway sends to a protected `backendUrl` (with `backends`, each server has its own). Default: none. */
  backendCredential?: BackendCredential;
  /**
   * A token the gateway mints per backend request, naming the caller, signed with a private JWK kept in `key` (a
   * secret or a SecureString parameter, readable by the function alone); its JWKS is served at /.well-known/jwks.json.
   * With `backends`, give the key alone: each server's `token` names its header and claims.
   */
  backendToken?: BackendToken;
  /**
   * The key that binds MCP session ids to the callers who opened them (at least 32 bytes), shared by every instance
   * of the function so a session opened on one continues on the next. Default: a secret generated by the stack.
   * Changing it ends every open session: clients get 404 and start a new one.
   */
  sessionKey?: secretsmanager.ISecret | ssm.IParameter;
}

export class McpSsoGateway extends Construct {
  readonly function: nodejs.NodejsFunction;
  /** The function's log group: `aws logs tail <name> --follow` shows one access-log line per request. */
  readonly logGroup: logs.LogGroup;
  readonly frontDoor: FrontDoorResources;
  /** The parameter the stack owns under the policy path; everything else there belongs to the policy admins. */
  readonly seedPolicy: ssm.StringParameter;
  /** The public MCP endpoint, e.g. `https://abc.lambda-url.eu-west-1.on.aws/mcp`. */
  readonly mcpUrl: string;
  /** The RFC 9728 metadata URL the 401 challenge points at. */
  readonly metadataUrl: string;
  /** Each server of `backends` by name: its MCP endpoint, `<mcpUrl>/<name>`. Empty with the single `backendUrl`. */
  readonly serverUrls: Readonly<Record<string, string>>;
  readonly policyPath: string;
  /** Where the session key is kept. */
  readonly sessionKey: secretsmanager.ISecret | ssm.IParameter;
  /** The topic the alarms notify. */
  readonly alarmTopic: sns.ITopic;

  constructor(scope: Construct, id: string, props: McpSsoGatewayProps) {
    super(scope, id);
    validateSettings(props, { environment: backendVariables(props), problems: backendPropsProblems(props) });
    const frontDoor = props.frontDoor;
    const streaming = frontDoor !== "httpApi";
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    this.policyPath = props.policyPath;

    this.seedPolicy = new ssm.StringParameter(this, "SeedPolicy", {
      parameterName: `${props.policyPath}/${SEED_PARAMETER_NAME}`,
      description: "Owned by the mcp-sso-gateway stack. Policy admins push their own documents next to it.",
      stringValue: readFileSync(props.seedPolicyFile ?? DEFAULT_SEED_POLICY, "utf8"),
      tier: ssm.ParameterTier.STANDARD,
    });

    this.logGroup = new logs.LogGroup(this, "FunctionLogs", { retention });
    this.function = new nodejs.NodejsFunction(this, "Function", {
      entry: fileURLToPath(new URL(`../functions/${streaming ? "streaming-handler" : "handler"}.ts`, import.meta.url)),
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? (streaming ? Duration.minutes(15) : Duration.seconds(29)),
      role: this.functionRole(props, this.logGroup),
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      description: "mcp-sso-gateway: enterprise JWT in, role-filtered MCP out",
      bundling: FUNCTION_BUNDLING,
    });

    this.frontDoor = createFrontDoor(this, frontDoor, {
      fn: this.function,
      retention,
      customDomain: props.customDomain,
      webAclArn: props.webAclArn,
      throttling: props.throttling,
      tracing: props.tracing ?? false,
      apiName: `${Names.uniqueResourceName(this, { maxLength: 48, separator: "-" })}-mcp-sso-gateway`,
    });
    if (frontDoor === "restStreaming" && !props.customDomain) {
      Annotations.of(this).addWarningV2(
        "mcp-sso-gateway:restStageInPath",
        "frontDoor=restStreaming without a custom domain: the execute-api URL starts with the stage (/prod/mcp), so none of the host-root RFC 9728 URIs MCP clients fall back to is routable, and API Gateway renames the 401 challenge's WWW-Authenticate. Clients that read only the challenge cannot sign in. Give a custom domain (-c domainName=... -c certificateArn=...) or use the functionUrl front door.",
      );
    }
    this.mcpUrl = `${this.frontDoor.publicUrl}/mcp`;
    this.metadataUrl = `${this.frontDoor.publicUrl}/.well-known/oauth-protected-resource/mcp`;
    this.serverUrls = Object.fromEntries((props.backends ?? []).map((server) => [server.name, `${this.mcpUrl}/${server.name}`]));

    const environment: Record<string, string> = {
      ...functionEnvironment(props),
      ...(this.frontDoor.functionPublicUrl ? { PUBLIC_URL: this.frontDoor.functionPublicUrl } : {}),
      ...this.frontDoor.environment,
      POLICY_CACHE_SECONDS: String((props.policyCacheTime ?? Duration.seconds(60)).toSeconds()),
      BACKEND_TIMEOUT_MS: String((props.backendTimeout ?? Duration.seconds(streaming ? 60 : 25)).toMilliseconds()),
      NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
    };
    for (const [name, value] of Object.entries(environment)) this.function.addEnvironment(name, value);
    useBackends(this.function, props);
    this.sessionKey = props.sessionKey ?? generatedSessionKey(this);
    useSessionKey(this.function, this.sessionKey);

    this.grantPolicyRead(props.policyPath, props.policyKmsKey);
    this.alarmTopic = props.alarmTopic ?? this.createdAlarmTopic(props.alarmEmail);
    addAlarms(this, { fn: this.function, frontDoorServerErrors: this.frontDoor.serverErrors, topic: this.alarmTopic });
  }

  /**
   * The function's role: it may write to its own log group and nothing else of CloudWatch Logs (rather than the
   * managed AWSLambdaBasicExecutionRole's every log group); in a VPC, the network interfaces Lambda needs.
   */
  private functionRole(props: McpSsoGatewayProps, logGroup: logs.LogGroup): iam.Role {
    const role = new iam.Role(this, "FunctionRole", {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: "mcp-sso-gateway function: its own log group, its policy path, its secrets",
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        // The group's ARN ends in `:*`, which covers its log streams and nothing else.
        resources: [logGroup.logGroupArn],
      }),
    );
    if (props.vpc) role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaVPCAccessExecutionRole"));
    return role;
  }

  private createdAlarmTopic(email: string | undefined): sns.Topic {
    const topic = new sns.Topic(this, "AlarmTopic", { displayName: "mcp-sso-gateway alarms", enforceSSL: true });
    if (email) topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
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
}
