/**
 * CloudFront in front of any front door, for a custom domain (and an optional WAF web ACL): nothing cached, every
 * method and every viewer header but Host passed on (with caching disabled that includes Authorization), and a secret
 * header added to each origin request. The function requires that header (EDGE_SECRET_HEADER), so a caller who finds
 * the function URL or the execute-api domain cannot go around the distribution and its WAF. The secret is generated in Secrets Manager and put
 * into the distribution's configuration by a CloudFormation dynamic reference, never into the template's text.
 *
 * A Lambda@Edge function on origin responses gives the 401 challenge back the `WWW-Authenticate` name that API
 * Gateway and function URLs take, or are reported to take, from it (challenge-restorer.ts); a CloudFront Function could not, since CloudFront
 * runs none on responses of 400 and above (docs/aws.md).
 */
import { Duration } from "aws-cdk-lib";
import * as cloudfront from "aws-cdk-lib/aws-cloudfront";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type { Construct } from "constructs";
import type { CustomDomain, FrontDoorOptions, OriginFactory } from "./types.js";
import { challengeRestorer } from "./challenge-restorer.js";

/** The header CloudFront adds to every request it passes to the function. */
export const EDGE_SECRET_HEADER = "x-mcp-sso-gateway-edge-secret";

/**
 * How long CloudFront waits for the next bytes from the function: its largest value without a quota increase. An SSE
 * stream that stays silent longer is cut (docs/aws.md); the gateway's own responses start at once.
 */
const ORIGIN_READ_TIMEOUT = Duration.seconds(60);

export interface Distribution {
  /** The distribution's own domain name: where the custom domain's DNS record points. */
  domainName: string;
  /** The function's environment: the header it requires and the secret it compares against. */
  environment: Record<string, string>;
}

export function cloudFrontDistribution(
  scope: Construct,
  options: FrontDoorOptions & { customDomain: CustomDomain; origin: OriginFactory },
): Distribution {
  const { fn, customDomain, webAclArn } = options;
  const edgeSecret = new secretsmanager.Secret(scope, "EdgeSecret", {
    description: "mcp-sso-gateway: the header value CloudFront adds, which the function requires of every request.",
    generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
  });
  edgeSecret.grantRead(fn);
  const origin = options.origin({
    customHeaders: { [EDGE_SECRET_HEADER]: edgeSecret.secretValue.unsafeUnwrap() },
    readTimeout: ORIGIN_READ_TIMEOUT,
  });
  const distribution = new cloudfront.Distribution(scope, "Distribution", {
    comment: "mcp-sso-gateway",
    domainNames: [customDomain.domainName],
    certificate: customDomain.certificate,
    minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
    httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
    webAclId: webAclArn,
    defaultBehavior: {
      origin,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      compress: false,
      edgeLambdas: [challengeRestorer(scope)],
    },
  });
  return {
    domainName: distribution.distributionDomainName,
    environment: { EDGE_SECRET_HEADER, EDGE_SECRET_SECRET_ID: edgeSecret.secretArn },
  };
}
