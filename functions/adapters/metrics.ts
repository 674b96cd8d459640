/**
 * CloudWatch metrics on Lambda, through Powertools Metrics (embedded metric format: written as log lines, no API
 * calls). `logMetrics` middleware publishes them at the end of each invocation.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { FUNCTION_DIMENSION, METRICS_NAMESPACE, METRIC_NAMES, metricValues, type GatewayMetrics } from "../metrics.js";
import { SERVICE_NAME } from "./logger.js";

/** @param functionName the Lambda function's name (the runtime's AWS_LAMBDA_FUNCTION_NAME), a dimension of each metric. */
export function createCloudWatchMetrics(functionName = process.env.AWS_LAMBDA_FUNCTION_NAME): { metrics: Metrics; gatewayMetrics: GatewayMetrics } {
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: SERVICE_NAME,
    defaultDimensions: functionName ? { [FUNCTION_DIMENSION]: functionName } : {},
  });
  return {
    metrics,
    gatewayMetrics: {
      requestCompleted(entry) {
        for (const { name, unit, value } of metricValues(entry)) {
          metrics.addMetric(name, unit === "Count" ? MetricUnit.Count : MetricUnit.Milliseconds, value);
        }
      },
      policyLoadFailed() {
        metrics.addMetric(METRIC_NAMES.policyLoadFailures, MetricUnit.Count, 1);
      },
    },
  };
}
