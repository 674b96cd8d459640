/** What every front door takes and gives: the construct's side of the contract each module in this folder keeps. */
import type { Duration } from "aws-cdk-lib";
import type * as acm from "aws-cdk-lib/aws-certificatemanager";
import type * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import type * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as logs from "aws-cdk-lib/aws-logs";

export interface CustomDomain {
  /**
   * e.g. `mcp.example.com`, served by CloudFront in front of any front door; point its DNS at output `DnsTarget` (a
   * CNAME, or a Route 53 alias).
   */
  domainName: string;
  /** An ACM certificate for `domainName`, in us-east-1 (CloudFront's rule). */
  certificate: acm.ICertificate;
}

/** Request limits of an API Gateway stage (API Gateway's own defaults apply when left out: the account's quota). */
export interface Throttling {
  /** Steady-state requests per second. */
  rateLimit?: number;
  /** Requests allowed in a burst. */
  burstLimit?: number;
}

export interface FrontDoorOptions {
  fn: lambda.IFunction;
  retention: logs.RetentionDays;
  customDomain: CustomDomain | undefined;
  /** A WAF web ACL: CLOUDFRONT scope with a custom domain (on CloudFront), else REGIONAL on the REST stage. */
  webAclArn: string | undefined;
  throttling: Throttling | undefined;
  /** X-Ray tracing of the API Gateway stage, where the front door supports it (REST). */
  tracing: boolean;
  /** Names the API in metrics (REST metrics are keyed by API name, so it must be unique per account and region). */
  apiName: string;
}

export interface FrontDoorResources {
  /**
   * Base URL clients use (no trailing slash), given to the function as PUBLIC_URL; undefined where the function can
   * only learn it from the request (a function URL's own address cannot be handed to the function it belongs to).
   */
  functionPublicUrl: string | undefined;
  /** Base URL clients use, for the outputs (no trailing slash). */
  publicUrl: string;
  /** 5xx answers of the front door, summed over 5 minutes. */
  serverErrors: cloudwatch.IMetric;
  /** Where the custom domain's DNS record points. */
  dnsTarget?: string;
  /** The function's environment this front door needs (the edge secret's header and where it is kept). */
  environment: Record<string, string>;
}

/** How CloudFront is to reach a front door: the origin it makes, given the headers it adds and how long it waits. */
export type OriginFactory = (props: { customHeaders: Record<string, string>; readTimeout: Duration }) => cloudfront.IOrigin;

/** What a front door module builds: its own URL, its 5xx metric, and the origin CloudFront would use in front of it. */
export interface BuiltFrontDoor {
  /** The front door's own base URL (no trailing slash). */
  url: string;
  /** Whether the function may be told `url` (a function URL's address cannot be handed to its own function). */
  urlKnownToFunction: boolean;
  serverErrors: cloudwatch.IMetric;
  origin: OriginFactory;
}
