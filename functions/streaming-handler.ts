/**
 * The Lambda function's entry point behind a streaming front door (REST API with `responseTransferMode: STREAM`).
 * As functions/handler.ts: configuration read and validated once per cold start, signing keys and policy fetched
 * before the first request, and every log line carrying the invocation's request id. It can only be loaded where the
 * `awslambda` global exists: the Lambda Node.js runtime provides it, for response streaming.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { createStreamingLambdaHandler } from "./adapters/lambda-streaming.js";
import { SERVICE_NAME, toGatewayLogger } from "./adapters/logger.js";
import { createCloudWatchMetrics } from "./adapters/metrics.js";
import { loadConfigFromEnv } from "./config/gateway-config.js";
import { createGatewayFromConfig } from "./core/create-gateway-from-config.js";

const logger = new Logger({ serviceName: SERVICE_NAME });
const { metrics, gatewayMetrics } = createCloudWatchMetrics();
// A streaming integration holds a response open for up to 15 minutes, so GET (the server-to-client stream) is served.
const gatewayLogger = toGatewayLogger(logger);
const gateway = createGatewayFromConfig(loadConfigFromEnv(), gatewayLogger, { serverStreams: true }, gatewayMetrics);
await gateway.warmUp();

// Every log line of an invocation carries its request id, so an access-log line can be tied to it. Metrics are
// published when the response has ended: a streamed request is counted when its stream ends, after the middlewares'
// `after` has run (where Powertools' logMetrics middleware would publish them, too early).
export const handler = createStreamingLambdaHandler(gateway, {
  onResponseEnd: () => metrics.publishStoredMetrics(),
  logger: gatewayLogger,
}).use(injectLambdaContext(logger));
