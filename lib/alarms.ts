/**
 * The alarms, each on metrics of this gateway alone (its function's name is a dimension of every metric it writes,
 * so two stacks in one account never count each other's errors), each notifying the alarm topic.
 */
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as actions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sns from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import { SERVICE_NAME } from "../functions/adapters/logger.js";
import { FUNCTION_DIMENSION, METRICS_NAMESPACE, METRIC_NAMES } from "../functions/metrics.js";

export interface AlarmTargets {
  fn: lambda.IFunction;
  /** The front door's own count of 5xx answers. */
  frontDoorServerErrors: cloudwatch.IMetric;
  topic: sns.ITopic;
}

export function addAlarms(scope: Construct, { fn, frontDoorServerErrors, topic }: AlarmTargets): void {
  const gatewayMetric = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE_NAME, [FUNCTION_DIMENSION]: fn.functionName },
      statistic: "Sum",
      period: Duration.minutes(5),
    });
  const alarms = [
    new cloudwatch.Alarm(scope, "PolicyLoadFailuresAlarm", {
      metric: gatewayMetric(METRIC_NAMES.policyLoadFailures),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: "A policy document under the policy path failed to load: the last good policy stays in force (or, with none, every request is refused) until it is fixed.",
    }),
    new cloudwatch.Alarm(scope, "BackendErrorsAlarm", {
      metric: gatewayMetric(METRIC_NAMES.backendErrors),
      threshold: 5,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: "The backend MCP server was unreachable, too slow or answered garbage (502/504) 5 times in 5 minutes.",
    }),
    new cloudwatch.Alarm(scope, "ServerErrorsAlarm", {
      metric: frontDoorServerErrors,
      threshold: 5,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: "The gateway answered 5xx 5 times in 5 minutes.",
    }),
    new cloudwatch.Alarm(scope, "FunctionErrorsAlarm", {
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: "The function failed outside the gateway's own handling (init failure, timeout, crash): look at its log group.",
    }),
  ];
  for (const alarm of alarms) alarm.addAlarmAction(new actions.SnsAction(topic));
}
