/**
 * The stack's shape from cdk.json context or `-c key=value` flags: custom domain, WAF, alarm notifications, capacity
 * and tracing. Validated once at synth, every bad key named at once, like the gateway's settings (gateway-settings.ts).
 */
import { ConfigError } from "../functions/errors.js";
import type { FrontDoor } from "./gateway-settings.js";

export interface DeploymentOptions {
  /**
   * Context `domainName`: serve on your own domain (with `certificateArn`), through CloudFront in front of whichever
   * front door; the output `DnsTarget` is where its DNS record points.
   */
  domainName?: string;
  /** Context `certificateArn`: the ACM certificate of `domainName`, in us-east-1 (CloudFront's rule). */
  certificateArn?: string;
  /**
   * Context `webAclArn`: a WAF web ACL in front of the gateway: CLOUDFRONT scope (us-east-1) with a custom domain (on
   * the distribution), or REGIONAL on the `restStreaming` stage without one. Default: none.
   */
  webAclArn?: string;
  /** Context `alarmTopicArn`: the SNS topic the alarms notify. Default: a topic the stack creates. */
  alarmTopicArn?: string;
  /** Context `alarmEmail`: an address the created alarm topic mails (confirm the subscription AWS sends). */
  alarmEmail?: string;
  /**
   * Context `reservedConcurrency`: the most instances of the function at once, reserved out of the account's
   * concurrency. Default: none (the account's unreserved pool, 1,000 by default, shared with its other functions).
   */
  reservedConcurrency?: number;
  /** Context `throttlingRateLimit`: requests per second the API stage allows. Default: the account's quota (10,000). */
  throttlingRateLimit?: number;
  /** Context `throttlingBurstLimit`: the stage's burst. Default: the account's quota (5,000). */
  throttlingBurstLimit?: number;
  /** Context `tracing`: `true` for X-Ray on the function and, where it has one, the API stage. Default `false`. */
  tracing?: boolean;
  /** Context `memorySize`: the function's memory in MB (128 to 10240; more memory is more CPU). Default 512. */
  memorySize?: number;
}

/** The context keys this module reads. */
export const DEPLOYMENT_OPTION_KEYS = [
  "domainName",
  "certificateArn",
  "webAclArn",
  "alarmTopicArn",
  "alarmEmail",
  "reservedConcurrency",
  "throttlingRateLimit",
  "throttlingBurstLimit",
  "tracing",
  "memorySize",
] as const satisfies ReadonlyArray<keyof DeploymentOptions>;

/**
 * Whether the stack must name its region: a custom domain brings CloudFront and its Lambda@Edge function, which CDK
 * places in us-east-1 (beside the stack, or in a stack of its own) and must know where the stack is.
 */
export function needsRegion(options: DeploymentOptions): boolean {
  return options.domainName !== undefined;
}

const ARN = /^arn:aws[a-z-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:.+$/;

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === "" ? undefined : s;
}

/** Reads and validates the options for this front door; throws ConfigError naming every bad context key. */
export function deploymentOptionsFromContext(context: (key: string) => unknown, frontDoor: FrontDoor): DeploymentOptions {
  const problems: string[] = [];
  const integer = (key: string, min: number, max: number): number | undefined => {
    const raw = text(context(key));
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) problems.push(`'${key}' must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`);
    return value;
  };
  const arn = (key: string, service: string): string | undefined => {
    const raw = text(context(key));
    if (raw !== undefined && ARN.exec(raw)?.[1] !== service) problems.push(`'${key}' must be an ARN of ${service}, not ${JSON.stringify(raw)}`);
    return raw;
  };
  const tracingText = text(context("tracing"));
  if (tracingText !== undefined && !["true", "false"].includes(tracingText)) problems.push(`'tracing' must be true or false, not ${JSON.stringify(tracingText)}`);
  const options: DeploymentOptions = {
    domainName: text(context("domainName")),
    certificateArn: arn("certificateArn", "acm"),
    webAclArn: arn("webAclArn", "wafv2"),
    alarmTopicArn: arn("alarmTopicArn", "sns"),
    alarmEmail: text(context("alarmEmail")),
    reservedConcurrency: integer("reservedConcurrency", 1, 100_000),
    throttlingRateLimit: integer("throttlingRateLimit", 1, 1_000_000),
    throttlingBurstLimit: integer("throttlingBurstLimit", 1, 1_000_000),
    tracing: tracingText === "true",
    memorySize: integer("memorySize", 128, 10_240),
  };
  problems.push(...combinationProblems(options, frontDoor));
  if (problems.length > 0) throw new ConfigError([...problems, "(settings come from cdk.json context or -c key=value flags)"]);
  return options;
}

function combinationProblems(options: DeploymentOptions, frontDoor: FrontDoor): string[] {
  const problems: string[] = [];
  if (options.domainName !== undefined && !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(options.domainName)) {
    problems.push(`'domainName' must be a host name such as mcp.example.com, not ${JSON.stringify(options.domainName)}`);
  }
  if ((options.domainName === undefined) !== (options.certificateArn === undefined)) {
    problems.push("'domainName' and 'certificateArn' go together: give both, or neither");
  }
  const certificateRegion = options.certificateArn ? ARN.exec(options.certificateArn)?.[2] : undefined;
  if (certificateRegion && certificateRegion !== "us-east-1") {
    problems.push(`'certificateArn' must be in us-east-1 (CloudFront serves the custom domain, and takes certificates from there only), not ${certificateRegion}`);
  }
  const onCloudFront = options.domainName !== undefined;
  if (options.webAclArn && !onCloudFront && frontDoor !== "restStreaming") {
    problems.push(`'webAclArn' on the ${frontDoor} front door needs 'domainName' (the web ACL is attached to the CloudFront distribution of the custom domain${frontDoor === "httpApi" ? "; HTTP APIs take none themselves" : ""})`);
  }
  if (options.webAclArn && onCloudFront && !options.webAclArn.includes(":global/")) {
    problems.push("'webAclArn' must be a CLOUDFRONT-scope web ACL (arn:aws:wafv2:us-east-1:<account>:global/webacl/...) with a custom domain, which CloudFront serves");
  }
  if (options.webAclArn && !onCloudFront && frontDoor === "restStreaming" && !options.webAclArn.includes(":regional/")) {
    problems.push("'webAclArn' must be a REGIONAL web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/...) on the restStreaming stage without a custom domain");
  }
  if (frontDoor === "functionUrl" && (options.throttlingRateLimit !== undefined || options.throttlingBurstLimit !== undefined)) {
    problems.push("'throttlingRateLimit' and 'throttlingBurstLimit' are API Gateway stage limits: on the functionUrl front door, bound the function with 'reservedConcurrency'");
  }
  if (options.alarmTopicArn && options.alarmEmail) problems.push("'alarmEmail' subscribes to the topic the stack creates: with 'alarmTopicArn', subscribe to your own topic instead");
  if (options.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(options.alarmEmail)) {
    problems.push(`'alarmEmail' must be an e-mail address, not ${JSON.stringify(options.alarmEmail)}`);
  }
  return problems;
}
