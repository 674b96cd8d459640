/**
 * Custom domains on every front door, served by CloudFront: nothing cached, every method and every header but Host
 * passed on, the edge secret added from Secrets Manager (and required by the function), the challenge's name restored
 * at the edge, an optional WAF; in front of the function URL, or of the API's execute-api host.
 */
import { Match } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { REMAPPED_CHALLENGE } from "../../functions/edge/restore-challenge.js";
import { challengeRestorerCode } from "../../lib/front-doors/challenge-restorer.js";
import { EDGE_SECRET_HEADER } from "../../lib/front-doors/cloudfront.js";
import { functionVariables, policyStatements, readable, synthStack } from "../support/synth-stack.js";

const DOMAIN = "mcp.example.com";
const CLOUDFRONT_CERTIFICATE = "arn:aws:acm:us-east-1:111122223333:certificate/abc";
const GLOBAL_WEB_ACL = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/mcp/1234";
const REGIONAL_WEB_ACL = "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/mcp/1234";
/** CloudFront's managed policies, by their documented ids. */
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac";

describe("functionUrl with a custom domain: CloudFront in front", () => {
  const { template, stack } = synthStack("functionUrl", { domainName: DOMAIN, certificateArn: CLOUDFRONT_CERTIFICATE, webAclArn: GLOBAL_WEB_ACL });
  const distribution = () => (Object.values(template.findResources("AWS::CloudFront::Distribution"))[0] as { Properties: { DistributionConfig: Record<string, unknown> } }).Properties.DistributionConfig;

  it("serves the domain with its us-east-1 certificate, TLS 1.2 or newer, and the web ACL", () => {
    expect(distribution()).toMatchObject({
      Aliases: [DOMAIN],
      ViewerCertificate: { AcmCertificateArn: CLOUDFRONT_CERTIFICATE, SslSupportMethod: "sni-only", MinimumProtocolVersion: "TLSv1.2_2021" },
      WebACLId: GLOBAL_WEB_ACL,
    });
  });

  it("caches nothing and passes every method and every viewer header but Host (Authorization included) to the function URL", () => {
    const behavior = distribution().DefaultCacheBehavior as Record<string, unknown>;
    expect(behavior).toMatchObject({
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
      AllowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
      ViewerProtocolPolicy: "https-only",
      Compress: false,
    });
    const [origin] = distribution().Origins as Array<Record<string, unknown>>;
    expect(readable((origin as { DomainName: unknown }).DomainName)).toBe("{{FunctionFunctionUrl.FunctionUrl}.split(\"/\")[2]}");
    expect(origin).toMatchObject({ CustomOriginConfig: { OriginProtocolPolicy: "https-only", OriginReadTimeout: 60 } });
  });

  it("adds the edge secret to each origin request by a Secrets Manager dynamic reference, and makes the function require it", () => {
    const [origin] = distribution().Origins as Array<{ OriginCustomHeaders: Array<{ HeaderName: string; HeaderValue: unknown }> }>;
    expect(origin?.OriginCustomHeaders).toEqual([{ HeaderName: EDGE_SECRET_HEADER, HeaderValue: expect.anything() }]);
    const value = readable(origin?.OriginCustomHeaders[0]?.HeaderValue);
    expect(value).toBe("{{resolve:secretsmanager:{EdgeSecret}:SecretString:::}}");
    expect(functionVariables(template)).toMatchObject({ EDGE_SECRET_HEADER, EDGE_SECRET_SECRET_ID: { Ref: expect.stringMatching(/^GatewayEdgeSecret/) }, PUBLIC_URL: `https://${DOMAIN}` });
    expect(policyStatements(template)).toContainEqual(
      expect.objectContaining({ Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: { Ref: expect.stringMatching(/^GatewayEdgeSecret/) } }),
    );
  });

  it("restores the challenge's name on origin responses, with a Lambda@Edge function built from the tested source", () => {
    const behavior = distribution().DefaultCacheBehavior as { LambdaFunctionAssociations: Array<{ EventType: string }> };
    expect(behavior.LambdaFunctionAssociations).toEqual([expect.objectContaining({ EventType: "origin-response" })]);
    const code = challengeRestorerCode();
    expect(code).toContain(REMAPPED_CHALLENGE);
    expect(code).not.toMatch(/\brequire\(|\bimport\b/);
    // The gateway's stack is in eu-west-1: CDK puts the edge function in a us-east-1 stack of its own.
    const edgeStack = stack.node.root.node.children.find((child) => child.node.id.startsWith("edge-lambda-stack"));
    expect(edgeStack).toBeDefined();
  });

  it("passes cdk-nag's AwsSolutions checks with nothing unacknowledged", () => {
    const { app, stack: full } = synthStack("functionUrl", { domainName: DOMAIN, certificateArn: CLOUDFRONT_CERTIFICATE, tracing: true, alarmEmail: "ops@example.com" });
    const report = new AwsSolutionsChecks(app).validateScope(full);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it("outputs the distribution's domain name as the DNS target", () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(readable(outputs.DnsTarget?.Value)).toBe("{Distribution.DomainName}");
    expect(readable(outputs.McpEndpointUrl?.Value)).toBe(`https://${DOMAIN}/mcp`);
  });
});

describe.each([
  ["httpApi", "", "HttpApi"],
  ["restStreaming", "/prod", "RestApi"],
] as const)("%s with a custom domain: the same CloudFront in front of the API", (frontDoor, originPath, api) => {
  const { template, app, stack } = synthStack(frontDoor, { domainName: DOMAIN, certificateArn: CLOUDFRONT_CERTIFICATE, webAclArn: GLOBAL_WEB_ACL, tracing: true });
  const distribution = () => (Object.values(template.findResources("AWS::CloudFront::Distribution"))[0] as { Properties: { DistributionConfig: Record<string, unknown> } }).Properties.DistributionConfig;

  it("reaches the API's execute-api host (its stage as the origin path, so the host root is the stage's root), with the edge secret, the challenge restorer and the web ACL", () => {
    const [origin] = distribution().Origins as Array<{ DomainName: unknown; OriginPath?: string; OriginCustomHeaders: Array<{ HeaderName: string }> }>;
    expect(readable(origin?.DomainName)).toBe(`{${api}}.execute-api.{AWS::Region}.{AWS::URLSuffix}`);
    expect(origin?.OriginPath ?? "").toBe(originPath);
    expect(origin?.OriginCustomHeaders.map((h) => h.HeaderName)).toEqual([EDGE_SECRET_HEADER]);
    expect(distribution()).toMatchObject({ Aliases: [DOMAIN], WebACLId: GLOBAL_WEB_ACL, DefaultCacheBehavior: { CachePolicyId: CACHING_DISABLED, OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER } });
    const behavior = distribution().DefaultCacheBehavior as { LambdaFunctionAssociations: Array<{ EventType: string }> };
    expect(behavior.LambdaFunctionAssociations).toEqual([expect.objectContaining({ EventType: "origin-response" })]);
  });

  it("tells the function its public URL and the edge secret it requires, and creates no API Gateway custom domain or regional web ACL", () => {
    expect(functionVariables(template)).toMatchObject({ PUBLIC_URL: `https://${DOMAIN}`, EDGE_SECRET_HEADER });
    template.resourceCountIs("AWS::ApiGatewayV2::DomainName", 0);
    template.resourceCountIs("AWS::ApiGateway::DomainName", 0);
    template.resourceCountIs("AWS::WAFv2::WebACLAssociation", 0);
    expect(readable((template.toJSON().Outputs as Record<string, { Value: unknown }>).DnsTarget?.Value)).toBe("{Distribution.DomainName}");
  });

  it("passes cdk-nag's AwsSolutions checks with nothing unacknowledged", () => {
    expect(new AwsSolutionsChecks(app).validateScope(stack).violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe("restStreaming without a custom domain", () => {
  it("attaches a regional web ACL to the stage", () => {
    const { template } = synthStack("restStreaming", { webAclArn: REGIONAL_WEB_ACL });
    template.hasResourceProperties("AWS::WAFv2::WebACLAssociation", { WebACLArn: REGIONAL_WEB_ACL, ResourceArn: Match.anyValue() });
    template.resourceCountIs("AWS::CloudFront::Distribution", 0);
  });
});
