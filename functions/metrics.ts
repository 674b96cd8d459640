/**
 * What the gateway counts, derived from each request's access-log entry, so the log line and the metrics can never
 * disagree. The core reports through `GatewayMetrics`; on Lambda they become CloudWatch metrics (EMF).
 */
import type { AccessLogEntry } from "./access-log-entry.js";

/**
 * CloudWatch namespace of the gateway's metrics. Their dimensions: `service` = `mcp-sso-gateway`, and on Lambda
 * `function` = the function's name, so that each deployment's alarms count its own requests alone.
 */
export const METRICS_NAMESPACE = "McpSsoGateway";

/** The dimension naming the Lambda function that wrote a metric. */
export const FUNCTION_DIMENSION = "function";

export const METRIC_NAMES = {
  /** Every request. */
  requests: "Requests",
  /** MCP messages refused by the policy (a refused body counts once). */
  denials: "Denials",
  /** 401 answers: no token, or an invalid one. */
  authenticationFailures: "AuthenticationFailures",
  /** 502 and 504 answers: the backend was unreachable, too slow, or answered garbage. */
  backendErrors: "BackendErrors",
  /**
   * On the aggregated endpoint: servers that did not answer their part of a fan-out (an initialize, a list), whose
   * items the answer lacks; the log line names them (`serversUnavailable`).
   */
  serversUnavailable: "ServersUnavailable",
  /**
   * Listed or used definitions that did not match their pin (hidden or refused under `pinning: enforce`, shown under
   * `warn`); the log line names each with both digests (`definitionsChanged`).
   */
  definitionChanged: "DefinitionChanged",
  /** Items removed from list results by the policy. */
  listItemsRemoved: "ListItemsRemoved",
  /** Milliseconds from arrival to the end of the response. */
  latency: "Latency",
  /** Under dry run: messages the full policy would have refused, plus list items it would have removed. */
  dryRunDenials: "DryRunDenials",
  /** Policy loads that failed (the last good policy stays in force; with none, everything is refused). */
  policyLoadFailures: "PolicyLoadFailures",
} as const;

export type MetricName = (typeof METRIC_NAMES)[keyof typeof METRIC_NAMES];

export interface MetricValue {
  name: MetricName;
  unit: "Count" | "Milliseconds";
  value: number;
}

/** The metric values one finished request contributes. */
export function metricValues(entry: Readonly<AccessLogEntry>): MetricValue[] {
  const values: MetricValue[] = [{ name: METRIC_NAMES.requests, unit: "Count", value: 1 }];
  const status = entry.status ?? 0;
  if (status === 401) values.push({ name: METRIC_NAMES.authenticationFailures, unit: "Count", value: 1 });
  else if (entry.decision === "denied" && status < 500) values.push({ name: METRIC_NAMES.denials, unit: "Count", value: 1 });
  if (status === 502 || status === 504) values.push({ name: METRIC_NAMES.backendErrors, unit: "Count", value: 1 });
  if (entry.serversUnavailable?.length) values.push({ name: METRIC_NAMES.serversUnavailable, unit: "Count", value: entry.serversUnavailable.length });
  if (entry.definitionsChangedCount) values.push({ name: METRIC_NAMES.definitionChanged, unit: "Count", value: entry.definitionsChangedCount });
  if (entry.listItemsRemoved) values.push({ name: METRIC_NAMES.listItemsRemoved, unit: "Count", value: entry.listItemsRemoved });
  const dryRunDenials = (entry.dryRunDecision === "denied" ? 1 : 0) + (entry.dryRunListItemsRemoved ?? 0);
  if (dryRunDenials > 0) values.push({ name: METRIC_NAMES.dryRunDenials, unit: "Count", value: dryRunDenials });
  if (entry.durationMs !== undefined) values.push({ name: METRIC_NAMES.latency, unit: "Milliseconds", value: entry.durationMs });
  return values;
}

/** Receives each finished request, and each failed policy load. */
export interface GatewayMetrics {
  requestCompleted(entry: Readonly<AccessLogEntry>): void;
  policyLoadFailed(): void;
}

export const NO_METRICS: GatewayMetrics = { requestCompleted: () => undefined, policyLoadFailed: () => undefined };
