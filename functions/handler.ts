/**
 * The Lambda function's entry point. Configuration is read and validated once per cold start (a bad setting fails
 * the init with a message naming it), and signing keys and policy are fetched in parallel before the first request.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { createLambdaHandler } from "./adapters/lambda.js";
import { SERVICE_NAME, toGatewayLogger } from "./adapters/logger.js";
import { createCloudWatchMetrics } from "./adapters/metrics.js";
import { loadConfigFromEnv } from "./config/gateway-config.js";
import { createGatewayFromConfig } from "./core/create-gateway-from-config.js";

const logger = new Logger({ serviceName: SERVICE_NAME });
const { metrics, gatewayMetrics } = createCloudWatchMetrics();
// A buffered API Gateway integration cannot hold a server-to-client stream open, so GET is answered 405.
const gateway = createGatewayFromConfig(loadConfigFromEnv(), toGatewayLogger(logger), { serverStreams: false }, gatewayMetrics);
await gateway.warmUp();

// Every log line of an invocation carries its request id, so an access-log line can be tied to it.
// Metrics are published (as EMF log lines) when each invocation ends.
export const handler = createLambdaHandler(gateway).use(injectLambdaContext(logger)).use(logMetrics(metrics));
