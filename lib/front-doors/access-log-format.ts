/**
 * The API Gateway access-log line: JSON with the standard fields plus what tells the front door's part from the
 * function's (how long the integration took, its status and its error), so a 5xx can be placed at a glance. The two
 * APIs name the same facts with different `$context` variables.
 */
import * as apigw from "aws-cdk-lib/aws-apigateway";

const HTTP_API_FIELDS = {
  requestId: "$context.requestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  path: "$context.path",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  integrationError: "$context.integrationErrorMessage",
  error: "$context.error.message",
};

const REST_API_FIELDS = {
  requestId: "$context.requestId",
  extendedRequestId: "$context.extendedRequestId",
  ip: "$context.identity.sourceIp",
  requestTime: "$context.requestTime",
  httpMethod: "$context.httpMethod",
  path: "$context.path",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integration.latency",
  integrationStatus: "$context.integration.status",
  integrationError: "$context.integration.error",
  error: "$context.error.message",
};

export const HTTP_API_ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(JSON.stringify(HTTP_API_FIELDS));
export const REST_API_ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(JSON.stringify(REST_API_FIELDS));
