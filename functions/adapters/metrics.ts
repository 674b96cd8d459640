/**
 * CloudWatch metrics on Lambda, through Powertools Metrics (embedded metric format: written as log lines, no API
 * calls). `logMetrics` middleware publishes them at the end of each invocation.
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { METRICS_NAMESPACE, METRIC_NAMES, metricValues, type GatewayMetrics } from "../metrics.js";
import { SERVICE_NAME } from "./logger.js";

export function createCloudWatchMetrics(): { metrics: Metrics; gatewayMetrics: GatewayMetrics } {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
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
