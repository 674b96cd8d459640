/**
 * The Lambda function's entry point. Configuration is read and validated once per cold start (a bad setting fails
 * the init with a message naming it), and signing keys and policy are fetched in parallel before the first request.
 */
import { createLambdaHandler } from "./adapters/lambda.js";
import { createJsonLogger } from "./adapters/logger.js";
import { loadConfigFromEnv } from "./config/gateway-config.js";
import { createGatewayFromConfig } from "./core/create-gateway-from-config.js";

// A buffered API Gateway integration cannot hold a server-to-client stream open, so GET is answered 405.
const gateway = createGatewayFromConfig(loadConfigFromEnv(), createJsonLogger(), { serverStreams: false });
await gateway.warmUp();

export const handler = createLambdaHandler(gateway);
