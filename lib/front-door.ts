/**
 * The ways in, one module each under front-doors/: a Lambda function URL (default; with a custom domain, behind
 * CloudFront), an HTTP API, or a REST API with response streaming. Every one sends every path to the function, which
 * routes `/mcp` and the RFC 9728 documents itself; docs/aws.md says why the function URL is the default.
 */
import type { Construct } from "constructs";
import { functionUrlFrontDoor } from "./front-doors/function-url.js";
import { httpApiFrontDoor } from "./front-doors/http-api.js";
import { restStreamingFrontDoor } from "./front-doors/rest-streaming.js";
import type { FrontDoorOptions, FrontDoorResources } from "./front-doors/types.js";
import type { FrontDoor } from "./gateway-settings.js";

export type { CustomDomain, FrontDoorOptions, FrontDoorResources, Throttling } from "./front-doors/types.js";

export function createFrontDoor(scope: Construct, frontDoor: FrontDoor, options: FrontDoorOptions): FrontDoorResources {
  switch (frontDoor) {
    case "functionUrl":
      return functionUrlFrontDoor(scope, options);
    case "httpApi":
      return httpApiFrontDoor(scope, options);
    case "restStreaming":
      return restStreamingFrontDoor(scope, options);
  }
}
