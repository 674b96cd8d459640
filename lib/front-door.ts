/**
 * The ways in, one module each under front-doors/: a Lambda function URL (default), an HTTP API, or a REST API with
 * response streaming; with a custom domain, any of them behind CloudFront (cloudfront.ts), which restores the 401
 * challenge and keeps the front door's own URL closed. Every one sends every path to the function, which routes `/mcp`
 * and the RFC 9728 documents itself; docs/aws.md says why the function URL is the default.
 */
import type { Construct } from "constructs";
import { functionUrlFrontDoor } from "./front-doors/function-url.js";
import { httpApiFrontDoor } from "./front-doors/http-api.js";
import { restStreamingFrontDoor } from "./front-doors/rest-streaming.js";
import { cloudFrontDistribution } from "./front-doors/cloudfront.js";
import type { BuiltFrontDoor, FrontDoorOptions, FrontDoorResources } from "./front-doors/types.js";
import type { FrontDoor } from "./gateway-settings.js";

export type { CustomDomain, FrontDoorOptions, FrontDoorResources, Throttling } from "./front-doors/types.js";

function buildFrontDoor(scope: Construct, frontDoor: FrontDoor, options: FrontDoorOptions): BuiltFrontDoor {
  switch (frontDoor) {
    case "functionUrl":
      return functionUrlFrontDoor(scope, options);
    case "httpApi":
      return httpApiFrontDoor(scope, options);
    case "restStreaming":
      return restStreamingFrontDoor(scope, options);
  }
}

export function createFrontDoor(scope: Construct, frontDoor: FrontDoor, options: FrontDoorOptions): FrontDoorResources {
  const built = buildFrontDoor(scope, frontDoor, options);
  const { customDomain } = options;
  if (!customDomain) {
    return { functionPublicUrl: built.urlKnownToFunction ? built.url : undefined, publicUrl: built.url, serverErrors: built.serverErrors, environment: {} };
  }
  const distribution = cloudFrontDistribution(scope, { ...options, customDomain, origin: built.origin });
  const publicUrl = `https://${customDomain.domainName}`;
  return { functionPublicUrl: publicUrl, publicUrl, serverErrors: built.serverErrors, dnsTarget: distribution.domainName, environment: distribution.environment };
}
