/**
 * The Lambda function's entry point. Configuration is read and validated once per cold start (a bad setting fails
 * the init with a message naming it), and signing keys and policy are fetched in parallel before the first request.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { createLambdaHandler } from "./adapters/lambda.js";
import { SERVICE_NAME, toGatewayLogger } from "./adapters/logger.js";
import { loadConfigFromEnv } from "./config/gateway-config.js";
import { createGatewayFromConfig } from "./core/create-gateway-from-config.js";

// A buffered API Gateway integration cannot hold a server-to-client stream open, so GET is answered 405.
const logger = new Logger({ serviceName: SERVICE_NAME });
const gateway = createGatewayFromConfig(loadConfigFromEnv(), toGatewayLogger(logger), { serverStreams: false });
await gateway.warmUp();

// Every log line of an invocation carries its request id, so an access-log line can be tied to it.
export const handler = createLambdaHandler(gateway).use(injectLambdaContext(logger));
