/**
 * The logger both adapters give the core: Powertools for AWS Lambda's Logger, which writes one JSON object per line.
 * On Lambda the handler also attaches the invocation context (request id, function name) to every line.
 * `LOG_LEVEL` sets the level, as Powertools documents.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { LogAttributes } from "@aws-lambda-powertools/logger/types";
import type { GatewayLogger } from "../logging.js";

export const SERVICE_NAME = "mcp-sso-gateway";

export function toGatewayLogger(logger: Logger): GatewayLogger {
  return {
    info: (message, fields) => logger.info(message, (fields ?? {}) as LogAttributes),
    warn: (message, fields) => logger.warn(message, (fields ?? {}) as LogAttributes),
    error: (message, fields) => logger.error(message, (fields ?? {}) as LogAttributes),
  };
}

export function createJsonLogger(): GatewayLogger {
  return toGatewayLogger(new Logger({ serviceName: SERVICE_NAME }));
}
