/**
 * The logger both adapters give the core: Powertools for AWS Lambda's Logger, which writes one JSON object per line
 * (and adds the Lambda request id when running there). `LOG_LEVEL` sets the level, as Powertools documents.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { LogAttributes } from "@aws-lambda-powertools/logger/types";
import type { GatewayLogger } from "../logging.js";

export function createJsonLogger(serviceName = "mcp-sso-gateway"): GatewayLogger {
  const logger = new Logger({ serviceName });
  return {
    info: (message, fields) => logger.info(message, (fields ?? {}) as LogAttributes),
    warn: (message, fields) => logger.warn(message, (fields ?? {}) as LogAttributes),
    error: (message, fields) => logger.error(message, (fields ?? {}) as LogAttributes),
  };
}
